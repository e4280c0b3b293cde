#!/usr/bin/env bash
# The check step of action.yml: annotations or SARIF, the rewrite as a patch, and how many Dockerfiles could
# be converted (a step output). Inputs arrive as environment variables (DOCKREWRITE_PATHS, _FORMAT, _PATCH).
set -uo pipefail

read -r -a paths <<< "${DOCKREWRITE_PATHS:-.}"
format="${DOCKREWRITE_FORMAT:-github}"
case "$format" in
  github|sarif) ;;
  *) echo "::error title=dockrewrite::the format input must be github or sarif"; exit 2 ;;
esac

if [[ "$format" == sarif ]]; then
  dockrewrite convert --check --format sarif -- "${paths[@]}" > dockrewrite.sarif
else
  dockrewrite convert --check --format github -- "${paths[@]}"
fi
status=$?
if [[ $status -eq 2 ]]; then
  echo "::error title=dockrewrite::dockrewrite could not read or convert a Dockerfile (see the messages above)"
fi

convertible=$(dockrewrite convert --check --quiet -- "${paths[@]}" | grep -c . || true)
echo "convertible=${convertible:-0}" >> "${GITHUB_OUTPUT:-/dev/null}"

if [[ -n "${DOCKREWRITE_PATCH:-}" && "${convertible:-0}" != 0 ]]; then
  # The unified diffs apply with `git apply dockrewrite.patch` from the repository root.
  dockrewrite convert --color never --quiet -- "${paths[@]}" > dockrewrite.patch
  echo "The rewrite is attached as the ${DOCKREWRITE_PATCH} artifact: git apply dockrewrite.patch"
fi

# Exit 1 (files would change) is the action's fail-on-changes decision, taken in its own step.
[[ $status -eq 2 ]] && exit 2
exit 0
