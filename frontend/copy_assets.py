"""Copy the front-end files the pages use from node_modules (installed from the npm
registry by `make`) to var/vendor, which Django serves under /static/vendor/."""

import shutil
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
MODULES = HERE / "node_modules"
TARGET = Path(sys.argv[1]) if len(sys.argv) > 1 else HERE.parent / "var" / "vendor"

FILES = [
    "bootstrap/dist/css/bootstrap.min.css",
    "bootstrap/dist/js/bootstrap.bundle.min.js",
    "bootstrap-icons/font/bootstrap-icons.min.css",
    "bootstrap-icons/font/fonts/*",
    "htmx.org/dist/htmx.min.js",
    "echarts/dist/echarts.min.js",
    "@fontsource/noto-sans-sc/400.css",
    "@fontsource/noto-sans-sc/700.css",
    "@fontsource/noto-sans-sc/files/noto-sans-sc-*-400-normal.woff2",
    "@fontsource/noto-sans-sc/files/noto-sans-sc-*-700-normal.woff2",
]


def main():
    copied = 0
    for pattern in FILES:
        matches = list(MODULES.glob(pattern))
        if not matches:
            sys.exit(f"missing front-end asset {pattern}: run npm ci in frontend/")
        for source in matches:
            dest = TARGET / source.relative_to(MODULES)
            dest.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, dest)
            copied += 1
    print(f"{copied} front-end files in {TARGET}")


if __name__ == "__main__":
    main()
