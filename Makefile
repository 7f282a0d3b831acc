# lotrace - TCP handshakes on loopback, live (eBPF or libpcap) and replayed.
#
#   make deps       install missing Debian packages (apt-get, as root)
#   make            build build/lotrace (eBPF backend when libbpf is there)
#   make run        deps-run, then build, then run lotrace on its default input
#   make test       deps, then build + the whole test suite (also the asan build)
#   make asan       build build-asan/lotrace with ASan and UBSan
#   make bench      replay speed and tracing cost, side by side with peers
#   make fuzz       libFuzzer targets (tests/fuzz/), FUZZ_TIME=N seconds each
#   make fuzz-cov   what the fuzz corpora cover of decode.c and flow.c
#   make install    install under PREFIX (/usr/local), DESTDIR for staging
#   make uninstall  remove what make install put there
#   make dist       lotrace-VERSION.tar.gz of the committed tree (HEAD)
#   make BACKEND=pcap   build without libbpf (macOS, BSDs, old kernels)
#   V=1             show the commands
#
# Layout: bpf/ (kernel side), userspace/ (engine, sources, sinks), tui/
# (ncurses view), tests/, captures/ (scenario pcaps), docs/.

# The version lives in one place: the VERSION file.
VERSION := $(shell cat VERSION)
BUILD ?= build
BACKEND ?= auto
CC ?= cc
CLANG ?= clang
BPFTOOL ?= $(shell command -v bpftool 2>/dev/null || echo /usr/sbin/bpftool)
ARCH := $(shell uname -m | sed 's/x86_64/x86/;s/aarch64/arm64/')

ifeq ($(V),1)
Q :=
msg :=
else
Q := @
msg = @printf '  %-8s %s\n' "$(1)" "$(2)";
endif

# Which live backend. eBPF needs Linux, libbpf (pkg-config), clang, bpftool
# and a kernel with BTF; pcap is everywhere. auto takes eBPF when all are
# there and otherwise says at link time why not. The decision is made when
# make reads this file, so `make run` and `make test` install the packages
# first and then build in a sub-make.
ifeq ($(BACKEND),auto)
  ifneq ($(shell uname -s),Linux)
    BACKEND_WHY := not Linux
  else ifneq ($(shell pkg-config --exists libbpf 2>/dev/null && echo yes),yes)
    BACKEND_WHY := pkg-config finds no libbpf; `make deps` installs libbpf-dev
  else ifeq ($(shell command -v $(CLANG) 2>/dev/null),)
    BACKEND_WHY := no $(CLANG) to compile the eBPF program; `make deps` installs clang
  else ifeq ($(shell test -x $(BPFTOOL) && echo yes),)
    BACKEND_WHY := no bpftool; `make deps` installs bpftool
  else ifeq ($(wildcard /sys/kernel/btf/vmlinux),)
    BACKEND_WHY := this kernel has no BTF (/sys/kernel/btf/vmlinux)
  endif
  ifeq ($(BACKEND_WHY),)
    override BACKEND := bpf
  else
    override BACKEND := pcap
  endif
else ifeq ($(BACKEND),pcap)
  BACKEND_WHY := BACKEND=pcap
else ifeq ($(BACKEND),bpf)
  ifneq ($(shell pkg-config --exists libbpf 2>/dev/null && echo yes),yes)
    $(error BACKEND=bpf needs libbpf, which pkg-config does not find: run `make deps` (libbpf-dev), or build with BACKEND=pcap)
  endif
endif
ifeq ($(filter $(BACKEND),bpf pcap),)
$(error BACKEND=$(BACKEND) is not a backend: use auto, bpf or pcap)
endif
ifeq ($(BACKEND),bpf)
BACKEND_NOTE := eBPF and libpcap
else
BACKEND_NOTE := libpcap only, no eBPF: $(BACKEND_WHY)
endif

# Where --demo finds captures/busy-mixed.pcap: the source tree, except in
# the binary `make install` builds (PKGDATADIR below).
PKGDATADIR ?= $(CURDIR)

PKGS := libpcap ncursesw zlib libmicrohttpd
ifeq ($(BACKEND),bpf)
PKGS += libbpf
endif

WARN := -Wall -Wextra -Wshadow -Wstrict-prototypes -Wmissing-prototypes \
	-Wno-unused-parameter -Wno-format-truncation -Wswitch-enum -Werror
BASE_CFLAGS := -std=c11 -D_GNU_SOURCE -g -O2 $(WARN) -MMD -MP \
	-DLT_VERSION='"$(VERSION)"' -DLT_DATADIR='"$(PKGDATADIR)"' \
	-Iuserspace -Itui -Ibpf -I$(BUILD) \
	$(shell pkg-config --cflags $(PKGS) 2>/dev/null)
LDLIBS := $(shell pkg-config --libs $(PKGS) 2>/dev/null || echo -lpcap -lncursesw -lz -lmicrohttpd) -lm

SAN_FLAGS := -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer

USER_SRCS := $(sort $(wildcard userspace/*.c) $(wildcard tui/*.c))
ifeq ($(BACKEND),bpf)
BASE_CFLAGS += -DLT_HAVE_BPF=1
else
USER_SRCS := $(filter-out userspace/src_bpf%.c userspace/kreason%.c,$(USER_SRCS))
endif
LIB_SRCS := $(filter-out userspace/main.c,$(USER_SRCS))

CFLAGS ?=
EXTRA_CFLAGS ?=
ALL_CFLAGS := $(BASE_CFLAGS) $(CFLAGS) $(EXTRA_CFLAGS)
# lotrace itself is linked with gcc's link-time optimization: the live
# reader's path crosses files per observation (source -> run -> engine ->
# flow table -> sinks) and LTO inlines across them (issue 9: callgrind of
# the eBPF reader -1.9 % instructions, cpu-ab 0.89 -> 0.75 us per
# connection, lower in 8 of 10 rounds). The objects are fat (machine code
# beside the LTO bytecode), so the unit tests, the TUI bench and the fuzz
# targets link them as before, without an LTO link each. gcc only (clang's
# LTO needs its own linker plugin); LTO= turns it off (asan and fuzz
# builds do).
LTO ?= $(if $(shell $(CC) -v 2>&1 | grep -q '^gcc version' && echo gcc),-flto=auto -ffat-lto-objects)

OBJS := $(USER_SRCS:%.c=$(BUILD)/%.o)
LIB_OBJS := $(LIB_SRCS:%.c=$(BUILD)/%.o)

UNIT_SRCS := $(sort $(wildcard tests/unit/test_*.c))
UNIT_BINS := $(UNIT_SRCS:tests/unit/%.c=$(BUILD)/tests/%)
TOOL_SRCS := $(sort $(wildcard tests/tools/*.c))
TOOL_BINS := $(TOOL_SRCS:tests/tools/%.c=$(BUILD)/tools/%)
# The TUI's keypress-to-redraw benchmark: a test program linked with the
# tui/ objects, not part of lotrace (tests/tui/bench-tui.sh runs it).
TUI_BENCH := $(BUILD)/tests/tui_bench

.PHONY: FORCE all deps deps-run run test test-unit test-e2e test-live asan bench clean format format-check check-deps \
	fuzz fuzz-build fuzz-cov fuzzers
.DELETE_ON_ERROR:
.SECONDARY:

all: $(BUILD)/lotrace $(TOOL_BINS) $(TUI_BENCH)

# ---- the eBPF object and its skeleton ---------------------------------
ifeq ($(BACKEND),bpf)
BPF_CFLAGS := -g -O2 -target bpf -D__TARGET_ARCH_$(ARCH) -Wall -Werror \
	-I$(BUILD) -Ibpf

# The kernel's types come from the running kernel's BTF; there is no
# bundled copy (it would be megabytes and match no kernel exactly).
$(BUILD)/vmlinux.h:
	$(call msg,GEN,$@)
	$(Q)mkdir -p $(BUILD)
	$(Q)if [ ! -r /sys/kernel/btf/vmlinux ]; then \
		echo "lotrace: cannot generate vmlinux.h: '/sys/kernel/btf/vmlinux' is missing (a kernel without CONFIG_DEBUG_INFO_BTF); build with 'make BACKEND=pcap'" >&2; \
		exit 1; \
	fi
	$(Q)$(BPFTOOL) btf dump file /sys/kernel/btf/vmlinux format c > $@

$(BUILD)/lotrace.bpf.o: bpf/lotrace.bpf.c bpf/lotrace.h $(BUILD)/vmlinux.h
	$(call msg,BPF,$@)
	$(Q)$(CLANG) $(BPF_CFLAGS) -c $< -o $@.tmp
	$(Q)$(BPFTOOL) gen object $@ $@.tmp && rm -f $@.tmp

$(BUILD)/lotrace.skel.h: $(BUILD)/lotrace.bpf.o
	$(call msg,SKEL,$@)
	$(Q)$(BPFTOOL) gen skeleton $< name lotrace_bpf > $@

$(BUILD)/userspace/src_bpf.o: $(BUILD)/lotrace.skel.h
endif

# ---- userspace --------------------------------------------------------
# Objects depend on the flags they were built with (BACKEND=pcap vs bpf).
$(BUILD)/.cflags: FORCE
	@mkdir -p $(@D)
	@echo '$(ALL_CFLAGS) $(LTO)' | cmp -s - $@ || echo '$(ALL_CFLAGS) $(LTO)' > $@

$(BUILD)/%.o: %.c $(BUILD)/.cflags
	$(call msg,CC,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) $(ALL_CFLAGS) $(LTO) -c $< -o $@

$(BUILD)/lotrace: $(OBJS)
	$(call msg,LINK,$@)
	$(Q)$(CC) $(ALL_CFLAGS) $(LTO) $^ -o $@ $(LDLIBS)
	@printf '  %-8s %s\n' BACKEND '$(BACKEND_NOTE)'

# Programs compiled from their source and linked with the objects in one
# step: their .d files add the headers to $^, which are not compiler input.
LINK_INPUTS = $(filter %.c %.o,$^)

$(BUILD)/tests/test_%: tests/unit/test_%.c $(LIB_OBJS)
	$(call msg,CC,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) $(ALL_CFLAGS) $(LINK_INPUTS) -o $@ $(LDLIBS) -lcmocka

$(TUI_BENCH): tests/tui/tui_bench.c $(LIB_OBJS)
	$(call msg,CC,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) $(ALL_CFLAGS) $(LINK_INPUTS) -o $@ $(LDLIBS)

# The replay benchmark's floor: a bare libpcap read loop.
$(BUILD)/bench/pcap_loop: tests/bench/pcap_loop.c userspace/hugemem.c userspace/hugemem.h
	$(call msg,CC,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) -std=c11 -D_GNU_SOURCE -O2 -g $(WARN) -Iuserspace $(filter %.c,$^) -o $@ -lpcap

$(BUILD)/tools/%: tests/tools/%.c
	$(call msg,CC,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) -std=c11 -D_GNU_SOURCE -O2 -g $(WARN) $< -o $@ -lpthread

-include $(OBJS:.o=.d) $(UNIT_BINS:=.d) $(TUI_BENCH).d

# ---- variants ---------------------------------------------------------
asan:
	$(Q)$(MAKE) --no-print-directory BUILD=build-asan EXTRA_CFLAGS="$(SAN_FLAGS)" LTO= all units

units: $(UNIT_BINS)

# libFuzzer targets: clang, ASan/UBSan, the pcap backend (no skeleton).
FUZZ_TIME ?= 60
FUZZ_SRCS := $(sort $(wildcard tests/fuzz/fuzz_*.c))
FUZZ_BINS := $(FUZZ_SRCS:tests/fuzz/%.c=$(BUILD)/fuzz/%)
FUZZ_FLAGS := -fsanitize=fuzzer-no-link,address,undefined \
	-fno-sanitize-recover=all -fno-omit-frame-pointer -Wno-unknown-warning-option \
	-fsanitize-coverage-ignorelist=tests/fuzz/ignorelist.txt

fuzzers: $(FUZZ_BINS)
-include $(FUZZ_BINS:=.d)

# tests/fuzz/harness.c: the engine set-up both targets share
$(BUILD)/fuzz/fuzz_%: tests/fuzz/fuzz_%.c tests/fuzz/harness.c $(LIB_OBJS)
	$(call msg,FUZZ,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) $(ALL_CFLAGS) -Itests/fuzz -fsanitize=fuzzer $(LINK_INPUTS) -o $@ $(LDLIBS)

fuzz-build:
	$(Q)$(MAKE) --no-print-directory BUILD=build-fuzz BACKEND=pcap CC=clang LTO= \
		EXTRA_CFLAGS="$(FUZZ_FLAGS)" fuzzers

fuzz: fuzz-build
	$(Q)tests/fuzz/run.sh $(FUZZ_TIME)

# decode.c/flow.c coverage of the corpora `make fuzz` grew (llvm-cov)
fuzz-cov:
	$(Q)$(MAKE) --no-print-directory BUILD=build-fuzzcov BACKEND=pcap CC=clang LTO= \
		EXTRA_CFLAGS="-fsanitize=fuzzer-no-link -fprofile-instr-generate -fcoverage-mapping -Wno-unknown-warning-option" fuzzers
	$(Q)tests/fuzz/coverage.sh

# ---- dependencies -----------------------------------------------------
# Debian package names; only the missing ones are installed.
DEB_BUILD := make gcc clang clang-format llvm pkg-config libpcap-dev libncurses-dev libmicrohttpd-dev \
	libbpf-dev bpftool libcmocka-dev zlib1g-dev libclang-rt-14-dev
DEB_DEMO := nftables
DEB_TEST := tshark tcpdump iproute2 tmux python3 procps git man-db groff-base zsh \
	prometheus prometheus-node-exporter curl openssl
DEB_BENCH := time libbpf-tools
deps:
	$(Q)tests/deps.sh $(DEB_BUILD) $(DEB_DEMO) $(DEB_TEST)

# what `make run` needs: the build, and nft for the demo's firewall step
deps-run:
	$(Q)tests/deps.sh $(DEB_BUILD) $(DEB_DEMO)

check-deps:
	$(Q)tests/deps.sh --check $(DEB_BUILD) $(DEB_DEMO) $(DEB_TEST)

# ---- running ----------------------------------------------------------
# The builds that `make run` and `make test` start run one job per CPU (on
# 2 cores the four before the tests take about 3 minutes instead of 5);
# `make -jN ...` keeps its own N.
BUILD_JOBS ?= $(if $(filter -j%,$(MAKEFLAGS)),,-j$(shell nproc 2>/dev/null || echo 1))

# deps first, then a sub-make: it decides the backend once libbpf is there,
# so the first run on a fresh machine already builds with eBPF.
run: deps-run
	$(Q)$(MAKE) --no-print-directory $(BUILD_JOBS) all
	$(Q)./tests/run-default.sh $(ARGS)

# ---- tests ------------------------------------------------------------
test: deps
	$(Q)$(MAKE) --no-print-directory $(BUILD_JOBS) all units
	$(Q)$(MAKE) --no-print-directory $(BUILD_JOBS) asan
	$(Q)$(MAKE) --no-print-directory $(BUILD_JOBS) BUILD=build-pcap BACKEND=pcap all
	$(Q)$(MAKE) --no-print-directory $(BUILD_JOBS) fuzz-build
	$(Q)tests/run-all.sh

test-unit: all units
	$(Q)tests/run-all.sh unit

bench: deps all $(BUILD)/bench/pcap_loop
	$(Q)tests/deps.sh $(DEB_BENCH)
	$(Q)tests/bench.sh

# ---- install ----------------------------------------------------------
# The binary goes to sbin, as tcpdump's does: watching live needs root (or
# CAP_BPF + CAP_NET_ADMIN, CAP_NET_RAW for libpcap), so it is an
# administrator's tool; replaying a capture works for anyone by full path.
# `make install` builds its own binary in $(INSTALL_BUILD) so that --demo
# finds the capture installed under $(pkgdatadir), not the source tree.
# Nothing is written outside $(DESTDIR).
PREFIX ?= /usr/local
DESTDIR ?=
sbindir := $(PREFIX)/sbin
mandir := $(PREFIX)/share/man
pkgdatadir := $(PREFIX)/share/lotrace
docdir := $(PREFIX)/share/doc/lotrace
bashcompdir := $(PREFIX)/share/bash-completion/completions
zshcompdir := $(PREFIX)/share/zsh/site-functions
INSTALL_BUILD ?= build-install
INSTALL ?= install
DOC_FILES := README.md LICENSE $(sort $(wildcard docs/*.md docs/*.txt))
REPORT_FILES := $(sort $(wildcard docs/reports/*.md))
DEMO_CAPTURE := captures/busy-mixed.pcap

.PHONY: install uninstall dist
install:
	$(Q)$(MAKE) --no-print-directory BUILD=$(INSTALL_BUILD) PKGDATADIR=$(pkgdatadir) \
		$(INSTALL_BUILD)/lotrace
	$(call msg,INSTALL,$(DESTDIR)$(PREFIX))
	$(Q)$(INSTALL) -d $(DESTDIR)$(sbindir) $(DESTDIR)$(mandir)/man8 \
		$(DESTDIR)$(pkgdatadir)/captures $(DESTDIR)$(docdir)/reports \
		$(DESTDIR)$(bashcompdir) $(DESTDIR)$(zshcompdir)
	$(Q)$(INSTALL) -m 0755 $(INSTALL_BUILD)/lotrace $(DESTDIR)$(sbindir)/lotrace
	$(Q)sed 's|/usr/local/|$(PREFIX)/|g' docs/lotrace.8 > $(DESTDIR)$(mandir)/man8/lotrace.8
	$(Q)chmod 0644 $(DESTDIR)$(mandir)/man8/lotrace.8
	$(Q)$(INSTALL) -m 0644 $(DEMO_CAPTURE) $(DESTDIR)$(pkgdatadir)/captures/
	$(Q)$(INSTALL) -m 0644 $(DOC_FILES) $(DESTDIR)$(docdir)/
	$(Q)$(INSTALL) -m 0644 $(REPORT_FILES) $(DESTDIR)$(docdir)/reports/
	$(Q)$(INSTALL) -m 0644 completions/lotrace.bash $(DESTDIR)$(bashcompdir)/lotrace
	$(Q)$(INSTALL) -m 0644 completions/_lotrace $(DESTDIR)$(zshcompdir)/_lotrace

# Removes the files above and lotrace's own directories, not the shared ones.
uninstall:
	$(call msg,UNINST,$(DESTDIR)$(PREFIX))
	$(Q)rm -f $(DESTDIR)$(sbindir)/lotrace $(DESTDIR)$(mandir)/man8/lotrace.8 \
		$(DESTDIR)$(bashcompdir)/lotrace $(DESTDIR)$(zshcompdir)/_lotrace
	$(Q)rm -rf $(DESTDIR)$(pkgdatadir) $(DESTDIR)$(docdir)

# ---- release ----------------------------------------------------------
# lotrace-VERSION.tar.gz of HEAD (committed files only) in DISTDIR.
DISTDIR ?= .
dist:
	$(Q)git rev-parse --verify -q HEAD >/dev/null || \
		{ echo "lotrace: cannot make a tarball: no git commit here; run make dist in a git clone" >&2; exit 1; }
	$(call msg,DIST,$(DISTDIR)/lotrace-$(VERSION).tar.gz)
	$(Q)git archive --format=tar.gz --prefix=lotrace-$(VERSION)/ \
		-o $(DISTDIR)/lotrace-$(VERSION).tar.gz HEAD
	$(Q)git diff --quiet HEAD || echo "  (uncommitted changes are not in the tarball)"

# Every C file we write (not the generated vmlinux.h); .clang-format says how.
FORMAT_SRCS = $(sort $(wildcard userspace/*.[ch] tui/*.[ch] bpf/*.[ch] tests/*/*.c tests/*/*.h))
format:
	clang-format -i $(FORMAT_SRCS)

# Fails when `make format` would change a file (make test runs it).
format-check:
	$(Q)clang-format --dry-run --Werror $(FORMAT_SRCS)

clean:
	rm -rf build build-asan build-pcap build-fuzz build-fuzzcov $(INSTALL_BUILD)

FORCE:
