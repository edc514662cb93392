import pytest
from mmengine.registry import DefaultScope


def _scopes():
    return DefaultScope._instance_dict


@pytest.fixture(scope='module', autouse=True)
def no_default_scope_from_other_modules():
    """A Runner (or init_default_scope) leaves its toolbox as mmengine's
    current default scope, and building from another toolbox's registry
    then looks in the wrong one: each test module starts with none."""
    _scopes().clear()
    yield
    _scopes().clear()


@pytest.fixture(autouse=True)
def no_default_scope_from_other_tests():
    """Within a module, a test sees the scopes its module's fixtures made,
    not those an earlier test left."""
    before = dict(_scopes())
    yield
    _scopes().clear()
    _scopes().update(before)
