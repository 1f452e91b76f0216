"""PyTorch DataLoader reference for bench/voc-data.ts: the same VOC reading (ElementTree XML, PIL JPEG
decode) and SSD training transform (photometric distortion, zoom-out, min-IoU random crop, flip,
bilinear resize to S, CHW float in [0, 1]) written in numpy (saturation as a grey mix, no hue rotation: a little less work than catkit's HSV);
images/s over one epoch.
usage: pytorch_voc_data.py ROOT SIZE WORKERS BATCH"""
import json, os, sys, time
import xml.etree.ElementTree as ET
import numpy as np
import torch
from PIL import Image

CLASSES = ['aeroplane', 'bicycle', 'bird', 'boat', 'bottle', 'bus', 'car', 'cat', 'chair', 'cow', 'diningtable', 'dog', 'horse',
           'motorbike', 'person', 'pottedplant', 'sheep', 'sofa', 'train', 'tvmonitor']


def iou(boxes, r):
    lt = np.maximum(boxes[:, :2], r[:2]); rb = np.minimum(boxes[:, 2:], r[2:])
    wh = np.clip(rb - lt, 0, None); inter = wh[:, 0] * wh[:, 1]
    return inter / ((boxes[:, 2] - boxes[:, 0]) * (boxes[:, 3] - boxes[:, 1]) + (r[2] - r[0]) * (r[3] - r[1]) - inter)


def augment(img, boxes, labels, rng, size):
    if rng.random() < 0.5: img = img + rng.uniform(-32, 32)
    if rng.random() < 0.5: img = img * rng.uniform(0.5, 1.5)
    img = np.clip(img, 0, 255)
    if rng.random() < 0.5:  # saturation, in HSV as the SSD references do (a grey-mix approximation here)
        grey = img.mean(axis=2, keepdims=True); img = np.clip(grey + (img - grey) * rng.uniform(0.5, 1.5), 0, 255)
    if rng.random() < 0.5:
        h, w, _ = img.shape; ratio = rng.uniform(1, 4)
        left, top = int(rng.uniform(0, w * ratio - w)), int(rng.uniform(0, h * ratio - h))
        canvas = np.empty((int(h * ratio), int(w * ratio), 3), np.float32); canvas[:] = (123.675, 116.28, 103.53)
        canvas[top:top + h, left:left + w] = img; img = canvas; boxes = boxes + [left, top, left, top]
    while len(boxes):
        mode = [None, 0.1, 0.3, 0.7, 0.9, -np.inf][rng.integers(6)]
        if mode is None: break
        done = False
        h, w, _ = img.shape
        for _ in range(50):
            cw, ch = rng.uniform(0.3 * w, w), rng.uniform(0.3 * h, h)
            if ch / cw < 0.5 or ch / cw > 2: continue
            l, t = rng.uniform(0, w - cw), rng.uniform(0, h - ch)
            r = np.array([int(l), int(t), int(l + cw), int(t + ch)])
            if iou(boxes, r).max() < mode: continue
            c = (boxes[:, :2] + boxes[:, 2:]) / 2
            m = (c[:, 0] > r[0]) & (c[:, 1] > r[1]) & (c[:, 0] < r[2]) & (c[:, 1] < r[3])
            if not m.any(): continue
            img = img[r[1]:r[3], r[0]:r[2]]; boxes = boxes[m].copy(); labels = labels[m]
            boxes[:, :2] = np.maximum(boxes[:, :2], r[:2]) - r[:2]; boxes[:, 2:] = np.minimum(boxes[:, 2:], r[2:]) - r[:2]
            done = True
            break
        if done: break
    if rng.random() < 0.5:
        img = img[:, ::-1]; w = img.shape[1]; boxes = boxes.copy(); boxes[:, [0, 2]] = w - boxes[:, [2, 0]]
    h, w, _ = img.shape
    t = torch.from_numpy(np.ascontiguousarray(img, dtype=np.float32)).permute(2, 0, 1)[None]
    out = torch.nn.functional.interpolate(t, size=(size, size), mode='bilinear', align_corners=False)[0] / 255
    return out, torch.from_numpy(boxes * [size / w, size / h, size / w, size / h]).float(), torch.from_numpy(labels)


class Voc(torch.utils.data.Dataset):
    def __init__(self, root, sets, size):
        self.items = []
        for year, split in sets:
            d = os.path.join(root, f'VOC{year}')
            for i in open(os.path.join(d, 'ImageSets', 'Main', f'{split}.txt')).read().split():
                self.items.append((os.path.join(d, 'Annotations', f'{i}.xml'), os.path.join(d, 'JPEGImages', f'{i}.jpg')))
        self.size = size

    def __len__(self): return len(self.items)

    def __getitem__(self, k):
        xml, jpg = self.items[k]
        objs = [o for o in ET.parse(xml).getroot().iter('object') if o.find('difficult').text == '0']
        boxes = np.array([[float(o.find('bndbox').find(c).text) - 1 for c in ('xmin', 'ymin', 'xmax', 'ymax')] for o in objs], np.float32).reshape(-1, 4)
        labels = np.array([CLASSES.index(o.find('name').text) + 1 for o in objs], np.int64)
        img = np.asarray(Image.open(jpg).convert('RGB'), dtype=np.float32)
        return augment(img, boxes, labels, np.random.default_rng(k), self.size)


def main():
    root, size, workers, batch = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
    torch.set_num_threads(1)
    ds = Voc(root, [('2007', 'trainval'), ('2012', 'trainval')], size)
    dl = torch.utils.data.DataLoader(ds, batch_size=batch, shuffle=True, num_workers=workers, collate_fn=lambda b: (torch.stack([x[0] for x in b]), [x[1] for x in b]))
    t0 = time.perf_counter(); n = 0
    for x, _ in dl: n += x.shape[0]
    print(json.dumps({"images_per_s": n / (time.perf_counter() - t0), "images": n}))


if __name__ == "__main__":
    main()
