#!/usr/bin/env bash
# Builds the Debian package (`make deb` runs this).
#
#   packaging/build-deb.sh [OUT_DIR]      OUT_DIR defaults to build/deb
#   DEB_REF=v0.1.0 packaging/build-deb.sh  packages that commit instead
#
# The source tree is copied to OUT_DIR/src/svcdns-VERSION: the files git
# knows, tracked or not yet added, as they are in the working tree (every
# file when this is not a git checkout), or with DEB_REF set, the tree of
# that commit (git archive). packaging/debian/ becomes its debian/, and
# dpkg-buildpackage builds the source and binary packages there, unsigned. Nothing is written outside OUT_DIR, which is emptied
# first. The results (.deb, .dsc, .tar.xz, .changes, .buildinfo) end up in
# OUT_DIR; the last line printed is the path of the .deb.
set -eu
root=$(cd "$(dirname "$0")/.." && pwd)
out=${1:-build/deb}
case $out in /*) ;; *) out=$root/$out ;; esac
case $out in
"$root" | "$root/" | / | "$root/packaging"*)
	echo "build-deb: refusing to use $out as the output directory" >&2
	exit 2
	;;
esac

ref=${DEB_REF:-}
# show FILE: a file of the tree being packaged.
show()
{
	if [ -n "$ref" ]; then
		git -C "$root" show "$ref:$1"
	else
		cat "$root/$1"
	fi
}
version=$(show packaging/debian/changelog | sed -n '1s/^svcdns (\([^)]*\)).*/\1/p')
code_version=$(show include/svcdns/common.h | sed -n 's/^#define SVCDNS_VERSION "\(.*\)"/\1/p')
if [ -z "$version" ] || [ "$version" != "$code_version" ]; then
	echo "build-deb: packaging/debian/changelog says '$version' but" \
		"include/svcdns/common.h says '$code_version'; add a changelog entry" >&2
	exit 1
fi

rm -rf "$out"
src=$out/src/svcdns-$version
mkdir -p "$src"
if [ -n "$ref" ]; then
	git -C "$root" archive --format=tar "$ref" | tar -xf - -C "$src"
elif git -C "$root" rev-parse --is-inside-work-tree >/dev/null 2>&1; then
	# Tracked and new files, without what .gitignore excludes (build/);
	# files deleted in the working tree are left out.
	(cd "$root" && git ls-files -z --cached --others --exclude-standard |
		while IFS= read -r -d '' f; do
			[ -e "$f" ] || [ -L "$f" ] && printf '%s\0' "$f"
		done | tar --null -T - -cf -) | tar -xf - -C "$src"
else
	(cd "$root" && tar --exclude=./build --exclude=./.git -cf - .) |
		tar -xf - -C "$src"
fi
rm -rf "$src/debian"
cp -a "$src/packaging/debian" "$src/debian"

# At most two jobs (the machine has two shared cores).
export DEB_BUILD_OPTIONS=${DEB_BUILD_OPTIONS:-parallel=2}
(cd "$src" && dpkg-buildpackage --unsigned-source --unsigned-changes \
	--build=full) >"$out/build.log" 2>&1 || {
	tail -40 "$out/build.log" >&2
	echo "build-deb: dpkg-buildpackage failed; the whole log is $out/build.log" >&2
	exit 1
}
# dpkg-buildpackage writes next to the source directory.
mv "$out"/src/*.deb "$out"/src/*.dsc "$out"/src/*.tar.* "$out"/src/*.changes \
	"$out"/src/*.buildinfo "$out"/
mv "$out"/src/*.ddeb "$out"/ 2>/dev/null || true
rm -rf "$out/src"
arch=$(dpkg-architecture -qDEB_HOST_ARCH)
deb=$out/svcdns_${version}_$arch.deb
[ -f "$deb" ] || { echo "build-deb: no $deb" >&2; exit 1; }
echo "$deb"
