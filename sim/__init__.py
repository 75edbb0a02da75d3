"""coopsim: how cybercrime treaties move electronic evidence across borders."""

from .experiments import attribute, compare, paired, study, sweep
from .inputs import InputError
from .model import CooperationModel
from .provisions import Variant, load_variant
from .runner import RunResult, replicate, run_one
from .world import World, load_world

__all__ = ["CooperationModel", "InputError", "RunResult", "Variant", "World", "attribute",
           "compare", "load_variant", "load_world", "paired", "replicate", "run_one", "study",
           "sweep"]
