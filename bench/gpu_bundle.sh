#!/usr/bin/env bash
# Packs a GPU build made on this machine for a lent device machine, whose
# image has the CUDA toolkit but none of Debian's libraries or datasets:
#   .gpu/bundle.tar.xz   the build's programs and CTest files (no objects),
#                        and the shared libraries they need that are not
#                        glibc, libstdc++ or CUDA's (Criterion and its
#                        dependencies, OpenBLAS, gfortran);
#   .gpu/fashion-mnist/  Debian's Fashion-MNIST IDX files.
# bench/gpu_check.sh unpacks it there when GSGD_BUNDLE=.gpu/bundle.tar.xz.
# The programs are built here, against this machine's glibc 2.36, which a
# newer glibc runs; CUDA 13.0 matches on both sides.
#
# Usage: bench/gpu_bundle.sh [BUILD [MPI_BUILD]]
#   BUILD (default build-gpu): configure it with
#     cmake -S . -B build-gpu -DCMAKE_BUILD_TYPE=Release \
#           -DCMAKE_CUDA_ARCHITECTURES=90 -DGSGD_WITH_MPI=OFF
#   and build it first: MPI and NCCL would add libraries the image may lack.
#   MPI_BUILD (default build-gpu-mpi, when it holds a gsgd): the same with
#   -DGSGD_WITH_MPI=ON; its gsgd alone travels, as mpi/gsgd, for the NCCL
#   check, and finds MPI and NCCL on the device machine or fails there.
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD=${1:-build-gpu}
MPI_BUILD=${2:-build-gpu-mpi}
[ -x "$BUILD/gsgd" ] || { echo "gpu_bundle: $BUILD/gsgd not built" >&2; exit 2; }
rm -rf .gpu
mkdir -p .gpu/stage/lib .gpu/fashion-mnist
cp /usr/share/datasets/fashion-mnist/*.gz .gpu/fashion-mnist/

# Programs and the CTest files that name them, at their paths in the tree.
find "$BUILD" -path "*/CMakeFiles" -prune -o -type f \
    \( -name CTestTestfile.cmake -o -perm -u+x \) -print >.gpu/files
tar -cf .gpu/stage/build.tar -T .gpu/files

# Shared libraries outside glibc, the C++ runtime and CUDA.
skip='^(linux-vdso|ld-linux|libc\.|libm\.|libpthread|librt|libdl|libresolv|libstdc\+\+|libgcc_s|libcuda|libcudart|libcublas|libcurand|libnccl|libz\.)'
while read -r exe; do
    ldd "$exe" | awk '$2 == "=>" && $3 ~ /^\// {print $1, $3}'
done < <(grep -v CTestTestfile .gpu/files) | sort -u | while read -r name path; do
    [[ $name =~ $skip ]] || cp -L "$path" ".gpu/stage/lib/$name"
done
parts=(build.tar lib)
if [ -x "$MPI_BUILD/gsgd" ]; then
    mkdir -p .gpu/stage/mpi && cp "$MPI_BUILD/gsgd" .gpu/stage/mpi/gsgd && parts+=(mpi)
fi
tar -C .gpu/stage -cJf .gpu/bundle.tar.xz "${parts[@]}"
rm -rf .gpu/stage .gpu/files
du -sh .gpu/bundle.tar.xz .gpu/fashion-mnist
