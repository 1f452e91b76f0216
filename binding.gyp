{
  "targets": [
    {
      "target_name": "catkit_native",
      "sources": [
        "native/src/addon.cc",
        "native/src/handle.cc",
        "native/src/external_memory.cc",
        "native/src/convert.cc",
        "native/src/dispatch.cc",
        "native/src/tensor_io.cc",
        "native/src/runtime.cc",
        "native/src/distributed.cc",
        "native/src/cat_site.cc",
        "native/src/codec.cc",
        "native/src/codes.cc"
      ],
      "include_dirs": [
        "<!@(node -p \"require('node-addon-api').include\")",
        "<!@(node native/libtorch-paths.cjs include)"
      ],
      "libraries": ["<!@(node native/libtorch-paths.cjs libs)"],
      "cflags_cc!": ["-fno-exceptions", "-fno-rtti", "-std=gnu++17"],
      "cflags_cc": ["-std=c++17", "-fexceptions", "-frtti", "-O2", "-D_GLIBCXX_USE_CXX11_ABI=1", "-Wno-unused-parameter", "-Wno-deprecated-declarations", "-Wno-stringop-overflow", "-ffp-contract=off"],
      "defines": ["NAPI_VERSION=8", "NAPI_CPP_EXCEPTIONS", "<!@(node native/libtorch-paths.cjs defines)"]
    }
  ]
}
