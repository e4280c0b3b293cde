"""The builder-pattern migration: `Dockerfile.build` + `Dockerfile` + a script that runs `docker build -f
Dockerfile.build`, `docker create`, `docker cp` and a second `docker build` become one multi-stage Dockerfile.

Pure: reads files, never writes or prints. `scan`/`find_pairs` read the scripts (shell scripts and Makefile
targets) next to the Dockerfiles; a script whose flow cannot be read with certainty yields no pair (and a
`Rejected` that says why). `merge` turns one Pair into a Result for the runtime file: the build file becomes
the `builder` stage and the runtime file's `COPY <what the script copied out>` becomes `COPY --from=builder`.
"""

from dockrewrite.builder.merge import merge
from dockrewrite.builder.pairs import BUILDER, Artifact, Pair, Rejected, Scan
from dockrewrite.builder.scan import find_pairs, scan

__all__ = ["BUILDER", "Artifact", "Pair", "Rejected", "Scan", "find_pairs", "merge", "scan"]
