# LT-Digits detection, DisAlign stage 2, mmlt's recipe (as for
# classification, docs/en/disalign.md): the paper's stage 2
# (det_stage2_paper.py) with the foreground margins starting at the logit
# adjustment's offsets, -log(prior) of the per-category image counts
# (start_tau=1; DisAlignRunner takes the prior from loss_cls), and the
# balanced target applied once, by the G-RW weights (rho 1; sampling stays
# uniform). Both follow from the counts; neither was tuned on val.
# Stage 1 and `load_from` (its work dir) as det_stage2_paper.py.
_base_ = ['./det_stage2_paper.py']

rho = 1.0
model = dict(
    roi_head=dict(
        bbox_head=dict(
            cls_predictor_cfg=dict(start_tau=1.0),
            loss_cls=dict(rho=rho))))
