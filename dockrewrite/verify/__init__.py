"""verify: build the original and the rewrite with a real Docker engine and compare them, by job.

engine drives the docker CLI, compare judges the runtime contract, smoke runs both images, results
holds the values, report renders them as text, run.verify_file puts it together. These are the names
the command line, the tests and the benchmarks use.
"""

from dockrewrite.verify.compare import Difference, ImageFacts, compare
from dockrewrite.verify.engine import Docker, EngineError, build_error, find_docker, inspect_image
from dockrewrite.verify.results import (
    CHANGED_EFFECTS,
    EFFECTS_DIFFER,
    ERROR,
    FAILED,
    PASSED,
    SAME_EFFECTS,
    SKIPPED,
    SideEffects,
    SmokeCheck,
    SmokeRun,
    VerifyResult,
)
from dockrewrite.verify.run import exit_code, verify_file
from dockrewrite.verify.smoke import (
    compare_side_effects,
    parse_diff,
    parse_http,
    side_effect_differences,
    without_npm_banner,
)

__all__ = [
    "CHANGED_EFFECTS",
    "EFFECTS_DIFFER",
    "ERROR",
    "FAILED",
    "PASSED",
    "SAME_EFFECTS",
    "SKIPPED",
    "Difference",
    "Docker",
    "EngineError",
    "ImageFacts",
    "SideEffects",
    "SmokeCheck",
    "SmokeRun",
    "VerifyResult",
    "build_error",
    "compare",
    "compare_side_effects",
    "exit_code",
    "find_docker",
    "inspect_image",
    "parse_diff",
    "parse_http",
    "side_effect_differences",
    "verify_file",
    "without_npm_banner",
]
