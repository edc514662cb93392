"""A model and data set of a few bytes in mmengine's root registries, for
tests that start tools/train.py many times and care about the run, not the
model (checkpoint saves, distributed failures): a run is mostly the start
of the interpreter. Configs load it with ``custom_imports`` (``tests/`` on
``PYTHONPATH``)."""
import torch
from mmengine.config import Config
from mmengine.evaluator import BaseMetric
from mmengine.model import BaseModel
from mmengine.registry import DATASETS, METRICS, MODELS


@MODELS.register_module()
class ToyRegressor(BaseModel):
    """y = w x + b, squared error."""

    def __init__(self):
        super().__init__()
        self.linear = torch.nn.Linear(2, 1)

    def forward(self, inputs, labels=None, mode='tensor'):
        out = self.linear(inputs).squeeze(-1)
        if mode == 'loss':
            return dict(loss=((out - labels)**2).mean())
        return out


@DATASETS.register_module()
class ToyRegressionData(torch.utils.data.Dataset):
    """``size`` points (i / size, 1) -> i / size."""

    def __init__(self, size: int = 8):
        self.size = size

    def __len__(self):
        return self.size

    def __getitem__(self, index):
        x = index / self.size
        return dict(inputs=torch.tensor([x, 1.0]), labels=torch.tensor(x))


@METRICS.register_module()
class ValidationCount(BaseMetric):
    """``count``: 1 at the first validation, 2 at the second...: a metric
    that improves every time."""

    def __init__(self):
        super().__init__()
        self.count = 0

    def process(self, data_batch, data_samples):
        self.results.append(0)

    def compute_metrics(self, results):
        self.count += 1
        return dict(count=self.count)


def toy_config(max_epochs: int, size: int = 8, **extra) -> Config:
    """Batches of 4, a checkpoint every epoch, a log line every iteration."""
    cfg = Config(dict(
        custom_imports=dict(imports=['toy_regression'],
                            allow_failed_imports=False),
        model=dict(type='ToyRegressor'),
        train_dataloader=dict(
            dataset=dict(type='ToyRegressionData', size=size),
            sampler=dict(type='DefaultSampler', shuffle=True),
            collate_fn=dict(type='default_collate'),
            batch_size=4, num_workers=0),
        train_cfg=dict(by_epoch=True, max_epochs=max_epochs),
        optim_wrapper=dict(optimizer=dict(type='SGD', lr=0.01)),
        default_hooks=dict(
            logger=dict(type='LoggerHook', interval=1),
            checkpoint=dict(type='CheckpointHook', interval=1)),
        randomness=dict(seed=0)))
    cfg.merge_from_dict(extra)
    return cfg
