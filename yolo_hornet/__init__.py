"""yolo_hornet: HorNet (gnConv, HorBlock, HorNet backbone, HorFPN) as modules of Ultralytics YOLO model YAMLs.

Importing the package registers ``gnConv, HorBlock, C3HB, C2fHB, HorNet, HorFPN`` with the installed ultralytics.
"""

from .csp_blocks import C3HB, C2fHB
from .global_local_filter import GlobalLocalFilter
from .gnconv import gnConv
from .graft import GraftError, graft
from .horblock import HorBlock
from .horfpn import HorFPN
from .hornet import PRESETS, HorNet, HorNetBackbone
from .layer_norm import LayerNorm2d
from .official_weights import hornet, load_official_weights, official_state_dict
from .ultralytics_glue import register

__version__ = "0.1.0"
__all__ = [
    "C2fHB",
    "C3HB",
    "GlobalLocalFilter",
    "GraftError",
    "HorBlock",
    "HorFPN",
    "HorNet",
    "HorNetBackbone",
    "LayerNorm2d",
    "PRESETS",
    "gnConv",
    "graft",
    "hornet",
    "load_official_weights",
    "official_state_dict",
    "register",
]

register()  # the only side effect of the import (see ultralytics_glue)
