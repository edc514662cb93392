# LT-Digits classification, DisAlign* stage 2: cls_stage2.py on the cosine
# stage 1 (cls_stage1_cosine.py), its classifier and scale frozen; the
# confidence layer sees the normalised feature.
_base_ = ['./cls_stage2.py']

load_from = 'work_dirs/demo/cls_stage1_cosine/epoch_60.pth'
# rho 1.5, the paper's cosine value; on LT-Digits val (seeds 0-2) rho 1.2
# and 1.5 were within one image: top-1 80.8 and 80.9 on average.
model = dict(
    head=dict(type='DisAlignCosineLinearClsHead', scale=20.0,
              loss=dict(rho=1.5)))
