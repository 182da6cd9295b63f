#!/usr/bin/env bash
# Package-consumer smoke test.
#
# Packs Logits, Logits.TorchSharp, Logits.LLamaSharp and Logits.OnnxRuntimeGenAI into a temporary local folder feed, builds a tiny console
# app (Consumer.csproj.template + Program.cs) against those packages in a fresh temporary folder
# outside the repository, and runs it. Exits non-zero if packing, restore, build or any check
# in the app fails.
#
# Environment:
#   LOGITS_PACKAGE_FEED   use this folder of already packed .nupkg files instead of packing.
#   LOGITS_KEEP_TEMP=1    keep the temporary folder (for debugging).
#
# Isolation: the app restores into its own temporary NUGET_PACKAGES folder, so a stale cached
# Logits 0.1.0 is never reused. To avoid downloading libtorch (~600 MB) again, the machine's
# global packages folder (asked from `dotnet nuget locals`) is offered as a read-only fallback
# folder, through a view that leaves out every Logits package. The nuget.config written next to
# the app only adds the local feed; the default package source still comes from the machine.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
fix_message="Logits.TorchSharp: host libstdc++ lacks GLIBCXX_3.4.32"

work="$(mktemp -d "${TMPDIR:-/tmp}/logits-consumer.XXXXXX")"
cleanup() {
    if [[ "${LOGITS_KEEP_TEMP:-0}" == "1" ]]; then
        echo "package consumer: kept $work"
    else
        rm -rf "$work"
    fi
}
trap cleanup EXIT

step() { echo "--- package consumer: $*"; }

# 1. The feed.
if [[ -n "${LOGITS_PACKAGE_FEED:-}" ]]; then
    feed="$(cd "$LOGITS_PACKAGE_FEED" && pwd)"
    step "using packages in $feed"
else
    feed="$work/feed"
    step "packing into $feed"
    dotnet pack "$repo/Logits.sln" -c Release -o "$feed" -tl:off -nologo
fi
for id in Logits Logits.TorchSharp Logits.LLamaSharp Logits.OnnxRuntimeGenAI; do
    if [[ ! -f "$feed/$id.0.1.0.nupkg" ]]; then
        echo "package consumer: $feed has no $id.0.1.0.nupkg" >&2
        exit 1
    fi
done

# 2. A view of the machine's global packages folder without any Logits package.
machine_packages="$(dotnet nuget locals global-packages --list | sed -n 's/^global-packages: *//p')"
fallback="$work/machine-packages-without-logits"
mkdir -p "$fallback"
if [[ -n "$machine_packages" && -d "$machine_packages" ]]; then
    for dir in "$machine_packages"/*/; do
        name="$(basename "$dir")"
        case "$name" in
            logits | logits.*) ;;
            *) ln -s "${dir%/}" "$fallback/$name" ;;
        esac
    done
fi

# 3. The consumer app in a fresh folder, outside the repository's Directory.*.props.
app="$work/app"
mkdir -p "$app"
cp "$here/Consumer.csproj.template" "$app/Consumer.csproj"
cp "$here/Program.cs" "$app/Program.cs"
echo '<Project />' > "$app/Directory.Build.props"
echo '<Project />' > "$app/Directory.Build.targets"
cat > "$app/nuget.config" <<EOF
<?xml version="1.0" encoding="utf-8"?>
<configuration>
  <packageSources>
    <add key="logits-local-feed" value="$feed" />
  </packageSources>
  <fallbackPackageFolders>
    <add key="machine-packages-without-logits" value="$fallback" />
  </fallbackPackageFolders>
</configuration>
EOF
export NUGET_PACKAGES="$work/nuget-packages"

# 4. Build (the log must show the libstdc++ fix where the host needs it) and run.
step "building $app/Consumer.csproj"
build_log="$work/build.log"
if ! dotnet build "$app/Consumer.csproj" -c Release -tl:off -nologo 2>&1 | tee "$build_log"; then
    echo "package consumer: build failed" >&2
    exit 1
fi

host_libstdcxx="$(ldconfig -p 2>/dev/null | awk '/libstdc\+\+\.so\.6 .*x86-64|libstdc\+\+\.so\.6 .*AArch64/ { print $NF; exit }' || true)"
if [[ -z "$host_libstdcxx" ]]; then
    for candidate in /usr/lib/x86_64-linux-gnu/libstdc++.so.6 /usr/lib/aarch64-linux-gnu/libstdc++.so.6 /usr/lib64/libstdc++.so.6; do
        if [[ -f "$candidate" ]]; then host_libstdcxx="$candidate"; break; fi
    done
fi
if [[ "$(uname -s)" == "Linux" && -n "$host_libstdcxx" ]] && ! grep -q "GLIBCXX_3.4.32" "$host_libstdcxx"; then
    if grep -q "$fix_message" "$build_log"; then
        step "the build applied the libstdc++ fix from Logits.TorchSharp's build assets"
    else
        echo "package consumer: host libstdc++ lacks GLIBCXX_3.4.32 but the build log has no '$fix_message' line" >&2
        exit 1
    fi
else
    step "host libstdc++ has GLIBCXX_3.4.32 (or not Linux); no fix expected"
fi

step "running"
dotnet run --project "$app/Consumer.csproj" -c Release --no-build
