# Lightbox: `make run` sets up and runs the app; `make test` sets up and runs every test.
# Both work on a fresh Debian 12 machine (as root, or with sudo) that has Go >= 1.21 and Node.js >= 20.

SHELL := /bin/bash
GO ?= $(shell command -v go 2>/dev/null || echo /usr/local/go/bin/go)
export PATH := $(dir $(GO)):$(PATH)
SHARED ?= $(abspath ../shared)
export LIGHTBOX_CORPUS ?= $(HOME)/.cache/lightbox/corpus
BIN := build/bin
DESKTOP_TAGS := desktop,production,webkit2_41

APT_RUN  := build-essential pkg-config libgtk-3-dev libwebkit2gtk-4.1-dev
APT_TEST := $(APT_RUN) xvfb xauth imagemagick chromium dcmtk libgdcm-tools python3-pydicom python3-numpy python3-gdcm python3-pil \
            orthanc orthanc-dicomweb orthanc-gdcm libopenjp2-tools curl fonts-dejavu-core fonts-noto-cjk

.PHONY: run test deps-run deps-test frontend build desktop corpus go-test e2e desktop-smoke bench bench-viewer fuzz clean

run: deps-run frontend build
	@if [ -n "$$DISPLAY$$WAYLAND_DISPLAY" ]; then $(MAKE) --no-print-directory desktop && exec $(BIN)/lightbox-desktop; \
	 else echo "No display: starting the web UI (open http://127.0.0.1:8080/)"; exec $(BIN)/lightbox serve; fi

test: deps-test frontend corpus build desktop go-test e2e desktop-smoke
	@echo "make test: all suites passed"

deps-run:
	@build/scripts/apt-ensure.sh $(APT_RUN)
deps-test:
	@build/scripts/apt-ensure.sh $(APT_TEST)

frontend/node_modules/.package-lock.json: frontend/package-lock.json
	cd frontend && npm ci --no-audit --no-fund

frontend: frontend/node_modules/.package-lock.json
	cd frontend && npm run build

build:
	$(GO) build -o $(BIN)/lightbox .

desktop:
	$(GO) build -tags $(DESKTOP_TAGS) -o $(BIN)/lightbox-desktop .

corpus:
	bash $(SHARED)/testdata/make-corpus.sh $(LIGHTBOX_CORPUS)

go-test:
	$(GO) vet ./...
	$(GO) test -count=1 -timeout 20m ./...

e2e: build
	build/scripts/e2e.sh $(BIN)/lightbox

desktop-smoke: desktop
	build/scripts/desktop-smoke.sh $(BIN)/lightbox-desktop

bench: build
	$(GO) test -run '^$$' -bench . -benchtime 1x -timeout 60m ./bench/

# the viewer benchmark (issue #9): a 500-slice CT in headless Chromium
bench-viewer: frontend build
	build/scripts/viewer-bench.sh $(BIN)/lightbox

clean:
	rm -rf $(BIN) frontend/dist/assets frontend/dist/index.html
