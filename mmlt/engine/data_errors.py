"""Name the sample when a data pipeline fails.

mmcv's ``LoadImageFromFile`` names the file when it is missing
(``FileNotFoundError``) or OpenCV cannot decode it (``failed to load image:
PATH``), but not for an empty file (``cv2.error: !buf.empty()``), nor with
``imdecode_backend='pillow'`` (``cannot identify image file <BytesIO>``,
``image file is truncated``), nor for a bad label map (mmseg's
``LoadAnnotations``). ``name_samples_in_pipeline_errors()`` wraps mmengine's
``BaseDataset.prepare_data``, which every mmdet / mmseg / mmpretrain dataset
uses, so that any exception raised by the pipeline carries a note (Python
>= 3.11, shown under the traceback, also through DataLoader workers) with
the dataset, the sample index and its file paths. The exception itself is
unchanged: same type, same message, same traceback.
"""
import functools

from mmengine.dataset import BaseDataset

from ..utils.mmengine_internals import relies_on

_NOTE = 'mmlt: raised by the data pipeline on sample'
_PATH_KEYS = ('img_path', 'seg_map_path', 'ann_path', 'file_name')
_applied = False


def describe_sample(dataset, idx) -> str:
    """'sample 3 of LongTailListDataset (img_path=...)'."""
    paths = ''
    try:
        info = dataset.get_data_info(idx)
        found = [f'{k}={info[k]}' for k in _PATH_KEYS
                 if isinstance(info, dict) and info.get(k)]
        paths = f' ({", ".join(found)})' if found else ''
    except Exception:  # the note must never hide the real error
        pass
    return f'{_NOTE} {idx} of {type(dataset).__name__}{paths}'


# wrapped below
relies_on('mmengine.dataset.BaseDataset.prepare_data', '08bf00232272a716')


def name_samples_in_pipeline_errors() -> bool:
    """Apply the wrapper once; returns False where notes do not exist
    (Python < 3.11) or it is already applied."""
    global _applied
    if _applied or not hasattr(BaseException, 'add_note'):
        return False
    original = BaseDataset.prepare_data

    @functools.wraps(original)
    def prepare_data(self, idx):
        try:
            return original(self, idx)
        except Exception as e:
            if not any(str(n).startswith(_NOTE)
                       for n in getattr(e, '__notes__', ())):
                e.add_note(describe_sample(self, idx))
            raise

    BaseDataset.prepare_data = prepare_data
    _applied = True
    return True
