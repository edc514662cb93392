"""LVIS box / mask AP per category, in the per-class file of every task.

``LongTailLVISMetric`` is mmdet's ``LVISMetric`` (same arguments, same
metrics) plus ``per_class_results=True``: the AP of every category for
each of ``bbox`` / ``segm`` is written to ``per_class_det.csv`` / ``.json``
next to the run's log (``mmlt.engine.per_class_output``), with the
category's training image count and r / c / f group from the evaluated
annotation file (LVIS v1 val carries the train set's ``image_count`` and
``frequency``). The values are mmdet's own: its ``classwise`` averages of
the LVIS evaluator's precision array (all areas, 300 detections), in %
(mmdet rounds them to 0.1). mmdet then logs a 1,203-row table and returns a
``<name>_precision`` entry per category, for one of box / mask only (the
keys collide); here the file takes both, and neither goes to the log.
"""
import logging
from typing import Dict, Optional

from mmdet.evaluation import LVISMetric
from mmdet.registry import METRICS
from mmengine.logging import MMLogger

from mmlt.core.per_class import per_class_rows
from mmlt.engine.per_class_output import write_per_class_results

LVIS_GROUPS = {'r': 'rare', 'c': 'common', 'f': 'frequent'}


class _DropCategoryTable(logging.Filter):
    """Drops mmdet's per-category AP table from the log."""

    def filter(self, record) -> bool:
        return '| category' not in record.getMessage()


@METRICS.register_module()
class LongTailLVISMetric(LVISMetric):
    """``LVISMetric`` with the per-category file (see module doc).

    Args:
        per_class_results: write the per-class file.
        per_class_dir: where to write it instead of the run's log dir.
        **kwargs: ``LVISMetric``'s arguments.
    """

    def __init__(self, per_class_results: bool = False,
                 per_class_dir: Optional[str] = None, **kwargs) -> None:
        super().__init__(**kwargs)
        self.per_class_results = per_class_results
        self.per_class_dir = per_class_dir

    def compute_metrics(self, results: list) -> Dict[str, float]:
        if not self.per_class_results or self.format_only:
            return super().compute_metrics(results)
        metrics, classwise = self.metrics, self.classwise
        logger = MMLogger.get_current_instance()
        table = _DropCategoryTable()
        logger.addFilter(table)
        merged, per_category = {}, {}
        try:
            self.classwise = True
            # one metric at a time: mmdet names a category's AP
            # '<name>_precision' for box and mask alike
            for metric in metrics:
                self.metrics = [metric]
                found = super().compute_metrics(results)
                aps = {k[:-len('_precision')]: v for k, v in found.items()
                       if k.endswith('_precision')}
                merged.update({k: v for k, v in found.items()
                               if not k.endswith('_precision')})
                if aps:
                    per_category[f'{metric}_AP'] = aps
        finally:
            self.metrics, self.classwise = metrics, classwise
            logger.removeFilter(table)
        self._write_per_class(per_category)
        return merged

    def _write_per_class(self, per_category: Dict[str, dict]) -> None:
        cats = self._lvis_api.load_cats(self.cat_ids)
        names = [c['name'] for c in cats]
        groups = {}
        for label, cat in enumerate(cats):
            group = LVIS_GROUPS.get(cat.get('frequency'))
            if group is not None:
                groups.setdefault(group, []).append(label)
        counts = [c.get('image_count') for c in cats]
        rows = per_class_rows(
            names, {metric: [None if aps[n] != aps[n] else round(100 * aps[n], 1)
                             for n in names]
                    for metric, aps in per_category.items()},
            train_counts=None if None in counts else counts, groups=groups)
        write_per_class_results('det', rows, 'detection',
                                list(per_category), self.per_class_dir)
