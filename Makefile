# lotrace - TCP handshakes on loopback, live (eBPF or libpcap) and replayed.
#
#   make deps       install missing Debian packages (apt-get, as root)
#   make            build build/lotrace (eBPF backend when libbpf is there)
#   make run        deps + build + run lotrace on its default input
#   make test       deps + build + the whole test suite (also the asan build)
#   make asan       build build-asan/lotrace with ASan and UBSan
#   make bench      replay speed and tracing cost, side by side with peers
#   make fuzz       libFuzzer targets (tests/fuzz/), FUZZ_TIME=N seconds each
#   make fuzz-cov   what the fuzz corpora cover of decode.c and flow.c
#   make BACKEND=pcap   build without libbpf (macOS, BSDs, old kernels)
#   V=1             show the commands
#
# Layout: bpf/ (kernel side), userspace/ (engine, sources, sinks), tui/
# (ncurses view), tests/, captures/ (scenario pcaps), docs/.

VERSION := 0.1.0
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

# Which live backend: eBPF needs libbpf and Linux; pcap is everywhere.
ifeq ($(BACKEND),auto)
  ifeq ($(shell uname -s),Linux)
    ifeq ($(shell pkg-config --exists libbpf 2>/dev/null && echo yes),yes)
      BACKEND := bpf
    else
      BACKEND := pcap
    endif
  else
    BACKEND := pcap
  endif
endif

PKGS := libpcap ncursesw zlib
ifeq ($(BACKEND),bpf)
PKGS += libbpf
endif

WARN := -Wall -Wextra -Wshadow -Wstrict-prototypes -Wmissing-prototypes \
	-Wno-unused-parameter -Wno-format-truncation -Wswitch-enum -Werror
BASE_CFLAGS := -std=c11 -D_GNU_SOURCE -g -O2 $(WARN) -MMD -MP \
	-DLT_VERSION='"$(VERSION)"' -DLT_DATADIR='"$(CURDIR)"' \
	-Iuserspace -Itui -Ibpf -I$(BUILD) \
	$(shell pkg-config --cflags $(PKGS) 2>/dev/null)
LDLIBS := $(shell pkg-config --libs $(PKGS) 2>/dev/null || echo -lpcap -lncursesw -lz) -lm

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

OBJS := $(USER_SRCS:%.c=$(BUILD)/%.o)
LIB_OBJS := $(LIB_SRCS:%.c=$(BUILD)/%.o)

UNIT_SRCS := $(sort $(wildcard tests/unit/test_*.c))
UNIT_BINS := $(UNIT_SRCS:tests/unit/%.c=$(BUILD)/tests/%)
TOOL_SRCS := $(sort $(wildcard tests/tools/*.c))
TOOL_BINS := $(TOOL_SRCS:tests/tools/%.c=$(BUILD)/tools/%)
# The TUI's keypress-to-redraw benchmark: a test program linked with the
# tui/ objects, not part of lotrace (tests/tui/bench-tui.sh runs it).
TUI_BENCH := $(BUILD)/tests/tui_bench

.PHONY: FORCE all deps run test test-unit test-e2e test-live asan bench clean format check-deps \
	fuzz fuzz-build fuzz-cov fuzzers
.DELETE_ON_ERROR:
.SECONDARY:

all: $(BUILD)/lotrace $(TOOL_BINS) $(TUI_BENCH)

# ---- the eBPF object and its skeleton ---------------------------------
ifeq ($(BACKEND),bpf)
BPF_CFLAGS := -g -O2 -target bpf -D__TARGET_ARCH_$(ARCH) -Wall -Werror \
	-I$(BUILD) -Ibpf

$(BUILD)/vmlinux.h:
	$(call msg,GEN,$@)
	$(Q)mkdir -p $(BUILD)
	$(Q)if [ -r /sys/kernel/btf/vmlinux ]; then \
		$(BPFTOOL) btf dump file /sys/kernel/btf/vmlinux format c > $@; \
	else \
		cp bpf/vmlinux/$(ARCH)/vmlinux.h $@; \
	fi

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
	@echo '$(ALL_CFLAGS)' | cmp -s - $@ || echo '$(ALL_CFLAGS)' > $@

$(BUILD)/%.o: %.c $(BUILD)/.cflags
	$(call msg,CC,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) $(ALL_CFLAGS) -c $< -o $@

$(BUILD)/lotrace: $(OBJS)
	$(call msg,LINK,$@)
	$(Q)$(CC) $(ALL_CFLAGS) $^ -o $@ $(LDLIBS)

$(BUILD)/tests/test_%: tests/unit/test_%.c $(LIB_OBJS)
	$(call msg,CC,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) $(ALL_CFLAGS) $^ -o $@ $(LDLIBS) -lcmocka

$(TUI_BENCH): tests/tui/tui_bench.c $(LIB_OBJS)
	$(call msg,CC,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) $(ALL_CFLAGS) $^ -o $@ $(LDLIBS)

$(BUILD)/tools/%: tests/tools/%.c
	$(call msg,CC,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) -std=c11 -D_GNU_SOURCE -O2 -g $(WARN) $< -o $@ -lpthread

-include $(OBJS:.o=.d) $(UNIT_BINS:=.d) $(TUI_BENCH).d

# ---- variants ---------------------------------------------------------
asan:
	$(Q)$(MAKE) --no-print-directory BUILD=build-asan EXTRA_CFLAGS="$(SAN_FLAGS)" all units

units: $(UNIT_BINS)

# libFuzzer targets: clang, ASan/UBSan, the pcap backend (no skeleton).
FUZZ_TIME ?= 60
FUZZ_SRCS := $(sort $(wildcard tests/fuzz/fuzz_*.c))
FUZZ_BINS := $(FUZZ_SRCS:tests/fuzz/%.c=$(BUILD)/fuzz/%)
FUZZ_FLAGS := -fsanitize=fuzzer-no-link,address,undefined \
	-fno-sanitize-recover=all -fno-omit-frame-pointer -Wno-unknown-warning-option \
	-fsanitize-coverage-ignorelist=tests/fuzz/ignorelist.txt

fuzzers: $(FUZZ_BINS)

$(BUILD)/fuzz/fuzz_%: tests/fuzz/fuzz_%.c $(LIB_OBJS)
	$(call msg,FUZZ,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) $(ALL_CFLAGS) -fsanitize=fuzzer $^ -o $@ $(LDLIBS)

fuzz-build:
	$(Q)$(MAKE) --no-print-directory BUILD=build-fuzz BACKEND=pcap CC=clang \
		EXTRA_CFLAGS="$(FUZZ_FLAGS)" fuzzers

fuzz: fuzz-build
	$(Q)tests/fuzz/run.sh $(FUZZ_TIME)

# decode.c/flow.c coverage of the corpora `make fuzz` grew (llvm-cov)
fuzz-cov:
	$(Q)$(MAKE) --no-print-directory BUILD=build-fuzzcov BACKEND=pcap CC=clang \
		EXTRA_CFLAGS="-fsanitize=fuzzer-no-link -fprofile-instr-generate -fcoverage-mapping -Wno-unknown-warning-option" fuzzers
	$(Q)tests/fuzz/coverage.sh

# ---- dependencies -----------------------------------------------------
# Debian package names; only the missing ones are installed.
DEB_BUILD := make gcc clang llvm pkg-config libpcap-dev libncurses-dev \
	libbpf-dev bpftool libcmocka-dev zlib1g-dev libclang-rt-14-dev
DEB_TEST := tshark tcpdump nftables iproute2 tmux python3 procps
DEB_BENCH := time
deps:
	$(Q)tests/deps.sh $(DEB_BUILD) $(DEB_TEST)

check-deps:
	$(Q)tests/deps.sh --check $(DEB_BUILD) $(DEB_TEST)

# ---- running ----------------------------------------------------------
# deps first, then a sub-make: it decides the backend once libbpf is there,
# so the first run on a fresh machine already builds with eBPF.
run: deps
	$(Q)$(MAKE) --no-print-directory all
	$(Q)./tests/run-default.sh $(ARGS)

# ---- tests ------------------------------------------------------------
test: deps
	$(Q)$(MAKE) --no-print-directory all units
	$(Q)$(MAKE) --no-print-directory asan
	$(Q)$(MAKE) --no-print-directory BUILD=build-pcap BACKEND=pcap all
	$(Q)$(MAKE) --no-print-directory fuzz-build
	$(Q)tests/run-all.sh

test-unit: all units
	$(Q)tests/run-all.sh unit

bench: deps all
	$(Q)tests/deps.sh $(DEB_BENCH)
	$(Q)tests/bench.sh

format:
	clang-format -i $(USER_SRCS) bpf/*.c bpf/*.h userspace/*.h tui/*.h

clean:
	rm -rf build build-asan build-pcap build-fuzz build-fuzzcov

FORCE:
