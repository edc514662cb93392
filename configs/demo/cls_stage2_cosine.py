# LT-Digits classification, DisAlign* stage 2: cls_stage2.py on the cosine
# stage 1 (cls_stage1_cosine.py), its classifier and scale frozen; the
# confidence layer sees the normalised feature.
_base_ = ['./cls_stage2.py']

load_from = 'work_dirs/demo/cls_stage1_cosine/epoch_60.pth'
# rho 1.5, the paper's cosine value; on LT-Digits val (seed 0, from the
# 60-epoch cosine stage 1) rho 1.2 / 1.5 / 2.0 gave top-1 89.0 / 89.0 / 88.0.
model = dict(
    head=dict(type='DisAlignCosineLinearClsHead', scale=20.0,
              loss=dict(rho=1.5)))
