# LT-Digits classification, LWS (Kang et al., ICLR 2020): cls_crt.py with
# the stage-1 classifier kept and one learnt scale per class on its logits.
_base_ = ['./cls_crt.py']

model = dict(head=dict(type='LWSLinearClsHead'))
