#!/usr/bin/env bash
# The argument shape of AWS's well-known build_and_push.sh: `build-and-push.sh IMAGE_NAME [TAG]`, run in
# the directory holding the Dockerfile. Builds, creates the ECR repository IMAGE_NAME when missing,
# pushes and checks the pushed manifest, all through `smkit push --build`. Region and account come from
# the standard AWS configuration (AWS_REGION / the profile); more smkit push flags may follow the tag.
set -euo pipefail

if [ "$#" -lt 1 ]; then
  echo "Usage: $0 <image-name> [tag] [smkit push flags...]" >&2
  exit 1
fi
image=$1
shift
tag=latest
if [ "$#" -gt 0 ] && [ "${1#-}" = "$1" ]; then
  tag=$1
  shift
fi

smkit=${SMKIT:-smkit}
exec $smkit push --build --context . --repository "$image" --tag "$tag" "$@"
