"""Reference data for test/detection/ssd-parity.test.ts, made with torchvision 0.14 (/usr/bin/python3).

usage: make_ssd_reference.py OUT_DIR MODEL [MODEL ...]

MODEL is ssd300_vgg16, ssd512_vgg16 or ssdlite320_mobilenet_v3_large (21 classes, random weights).
ssd512_vgg16 is assembled from torchvision's own pieces: the high-resolution VGG extractor
(_vgg_extractor(highres=True)) with the SSD paper's 512 default boxes. Writes per model:
  MODEL.safetensors      state dict under torchvision's names
  MODEL.io.safetensors   'images' (the raw [0, 1] input batch), 'bbox_regression', 'cls_logits',
                         'anchors' (image 0), and per image i: 'boxes.i', 'scores.i', 'labels.i'
                         (eval-mode detections, in the input images' pixels)
and MODEL.json with the state-dict keys/shapes/dtypes, the parameter count and the feature-map sizes.
Backbone convs get variance-preserving random weights and the classification head's last convs are scaled to logits of spread ~2 on every map,
so class scores neither tie (spatially constant deep features) nor saturate (which would make the
top-k/NMS order hinge on float ties).
"""
import json
import struct
import sys

import torch
from torchvision.models import vgg16
from torchvision.models.detection import ssd300_vgg16, ssdlite320_mobilenet_v3_large
from torchvision.models.detection.anchor_utils import DefaultBoxGenerator
from torchvision.models.detection.ssd import SSD, _vgg_extractor

DTYPES = {torch.float32: "F32", torch.float64: "F64", torch.int64: "I64"}


def save_safetensors(path, tensors):
    header, blobs, offset = {}, [], 0
    for name, t in tensors.items():
        data = t.detach().contiguous().cpu().numpy().tobytes()
        header[name] = {"dtype": DTYPES[t.dtype], "shape": list(t.shape), "data_offsets": [offset, offset + len(data)]}
        blobs.append(data)
        offset += len(data)
    raw = json.dumps(header).encode("utf-8")
    raw += b" " * ((8 - len(raw) % 8) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(raw)))
        f.write(raw)
        for b in blobs:
            f.write(b)


def ssd512_vgg16(num_classes):
    backbone = _vgg_extractor(vgg16(weights=None), True, 5)
    anchors = DefaultBoxGenerator([[2], [2, 3], [2, 3], [2, 3], [2], [2], [2]], scales=[0.07, 0.15, 0.3, 0.45, 0.6, 0.75, 0.9, 1.05])
    return SSD(backbone, anchors, (512, 512), num_classes, image_mean=[0.48235, 0.45882, 0.40784], image_std=[1.0 / 255.0] * 3)


def build(name):
    if name == "ssd300_vgg16":
        return ssd300_vgg16(weights=None, weights_backbone=None, num_classes=21), [(300, 300)]
    if name == "ssd512_vgg16":
        return ssd512_vgg16(21), [(512, 512)]
    # Two images of another size: exercises the resize and the box rescaling.
    return ssdlite320_mobilenet_v3_large(weights=None, weights_backbone=None, num_classes=21), [(256, 288), (256, 288)]


def main():
    out = sys.argv[1]
    torch.set_num_threads(1)
    for i, name in enumerate(sys.argv[2:]):
        torch.manual_seed(200 + i)
        gen = torch.Generator().manual_seed(300 + i)
        model, sizes = build(name)
        with torch.no_grad():
            for m in model.modules():
                if isinstance(m, torch.nn.BatchNorm2d):
                    m.weight.uniform_(0.5, 1.5, generator=gen)
                    m.bias.normal_(0.0, 0.2, generator=gen)
                    m.running_mean.normal_(0.0, 0.2, generator=gen)
                    m.running_var.uniform_(0.5, 1.5, generator=gen)
                    m.num_batches_tracked.fill_(7)
            # Variance-preserving conv weights (torchvision's SSDLite init, N(0, 0.03), makes deep
            # features spatially constant, hence tied scores), and class logits of a moderate spread.
            for conv in model.backbone.modules():
                if isinstance(conv, torch.nn.Conv2d):
                    conv.weight.normal_(0.0, (2.0 / conv.weight[0].numel()) ** 0.5, generator=gen)
        model.eval()
        images = torch.rand(len(sizes), 3, sizes[0][0], sizes[0][1], generator=gen)
        with torch.no_grad():
            feats = list(model.backbone(model.transform(list(images))[0].tensors).values())
            for block, f in zip(model.head.classification_head.module_list, feats):
                last = block if isinstance(block, torch.nn.Conv2d) else block[-1]
                scale = 2.0 / block(f).std().item()  # logits of spread ~2 on every map
                last.weight.mul_(scale)
                last.bias.mul_(scale)
        with torch.no_grad():
            batch, _ = model.transform(list(images))
            feats = list(model.backbone(batch.tensors).values())
            head = model.head(feats)
            anchors = model.anchor_generator(batch, feats)
            dets = model(list(images))
        io = {"images": images, "bbox_regression": head["bbox_regression"], "cls_logits": head["cls_logits"], "anchors": anchors[0]}
        for j, d in enumerate(dets):
            io[f"boxes.{j}"] = d["boxes"]
            io[f"scores.{j}"] = d["scores"]
            io[f"labels.{j}"] = d["labels"]
        sd = model.state_dict()
        save_safetensors(f"{out}/{name}.safetensors", sd)
        save_safetensors(f"{out}/{name}.io.safetensors", io)
        with open(f"{out}/{name}.json", "w") as f:
            json.dump({
                "keys": [[k, list(v.shape), DTYPES[v.dtype]] for k, v in sd.items()],
                "numParams": sum(p.numel() for p in model.parameters()),
                "grids": [list(t.shape[-2:]) for t in feats],
                "detections": [int(d["scores"].numel()) for d in dets],
            }, f)


if __name__ == "__main__":
    main()
