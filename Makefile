# unetmap - top-level Makefile.
#
#   make                 library (static + shared), unmd, tools, tests
#   make check           run the whole test suite (tests/run.sh)
#   make check SANITIZE=1   the same under ASan + UBSan (separate build dir)
#   make demo            the main job: unm-pktgen tx -> vale0 -> rx, rates
#   make bench           benchmarks in bench/ (slow, noisy: ratios only)
#   make fuzz            each libFuzzer target for FUZZ_TIME seconds (clang)
#   make install PREFIX=/usr/local DESTDIR=   (also UNITDIR, SYSUSERSDIR)
#   WERROR=0/1           warnings as errors (default: 1 in a git checkout)
#
# Sources are found by wildcard, so adding a file needs no edit here:
#   lib/*.c lib/*/*.c        -> libunm
#   daemon/*.c but main.c    -> libunmd.a (unmd's core, internal: not installed)
#   daemon/main.c            -> unmd (main.o + libunmd.a + libunm.a)
#   tools/NAME/*.c           -> NAME (one program per directory)
#   tests/{unit,mp,hostile,security}/*.c -> one test program per file
#   tests/{unit,...}/GROUP/*.c -> programs sharing code: GROUP.c and each
#                               GROUP-*.c is a program (built next to the
#                               one-file ones), linked with the other .c
#                               files of the directory
#   tests/fuzz/*_fuzz.c      -> a replay program (gcc) and a libFuzzer binary
#   bench/*.c                -> one benchmark program per file
#   unm-lwip/*.c             -> libunm-lwip.a (only if ./configure found lwIP;
#                               unm-stack is built only then too)
#   rumpvif/*.c              -> libunm-virtif.a (rump kernel virtif backend)

SHELL := /bin/bash

# Build in parallel by default, one job per online CPU: a fresh tree has
# over a hundred units. An explicit -jN (or -j1) on the command line or in
# MAKEFLAGS wins. GNU make >= 4.3 honours -j added here.
ifeq ($(filter -j% j%,$(MAKEFLAGS)),)
MAKEFLAGS += -j$(shell nproc 2>/dev/null || echo 1)
endif

ifeq ($(wildcard config-host.mak),)
$(shell ./configure >&2)
endif
-include config-host.mak

PREFIX  ?= /usr/local
DESTDIR ?=
LDCONFIG ?= ldconfig
UNITDIR ?= $(PREFIX)/lib/systemd/system
SYSUSERSDIR ?= $(PREFIX)/lib/sysusers.d
CC      ?= cc
CFLAGS  ?= -O2 -g
LIBVER  := 0.1.0
SONAME  := libunm.so.0

ifeq ($(SANITIZE),1)
B       ?= build-san
SANFLAGS := -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined
else
B       ?= build
SANFLAGS :=
endif

# Warnings are errors for developers and CI (a git checkout; .ci/run
# passes WERROR=1), not for whoever builds a release with another
# compiler: WERROR=0 or 1 overrides.
WERROR ?= $(if $(wildcard .git),1,0)
override CFLAGS += -std=gnu11 -Wall -Wextra $(if $(filter 1,$(WERROR)),-Werror) -Wshadow \
	-Wno-unused-parameter -D_GNU_SOURCE -MMD -MP -fvisibility=hidden $(SANFLAGS)
# -Wno-unused-parameter: ops tables give every backend the same signatures;
# most backends ignore some arguments.
# Include boundaries: lib/ sees its own headers; everything else sees the
# public include/ plus the named internal headers of lib/internal-api/
# (see its README); daemon/ also sees its own. config-host.h is copied to
# $(B)/gen so that no directory needs the top level on its path.
INC_ALL    := -Iinclude -I$(B)/gen
INC_LIB    := $(INC_ALL) -Ilib
INC_DAEMON := $(INC_ALL) -Idaemon -Ilib/internal-api
INC_OTHER  := $(INC_ALL) -Ilib/internal-api
INC := $(INC_OTHER)
$(B)/lib/%.o: INC := $(INC_LIB)
$(B)/daemon/%.o: INC := $(INC_DAEMON)
override LDFLAGS += $(SANFLAGS)
# -z defs catches undefined symbols in libunm.so; clang's sanitizer runtime
# is a static archive linked into executables only, so not with SANITIZE.
ZDEFS := $(if $(SANFLAGS),,-Wl,-z,defs)
LDLIBS  := -lpthread

# lib/backend/dpdk.c is the DPDK plugin, not part of libunm (see below)
LIB_SRCS := $(sort $(filter-out lib/backend/dpdk.c,$(wildcard lib/*.c lib/*/*.c)))
LIB_OBJS := $(LIB_SRCS:%.c=$(B)/%.o)
LIB_LIBS := $(XDP_LIBS) -lpthread
DAEMON_SRCS := $(wildcard daemon/*.c)
DAEMON_CORE_OBJS := $(patsubst %.c,$(B)/%.o,$(filter-out daemon/main.c,$(DAEMON_SRCS)))
DAEMON_CORE := $(B)/libunmd.a
TOOL_DIRS := $(patsubst tools/%/,%,$(sort $(dir $(wildcard tools/*/*.c))))
TOOLS    := $(TOOL_DIRS:%=$(B)/%)
TEST_SUITES := unit mp hostile security
TEST_SRCS := $(sort $(wildcard $(TEST_SUITES:%=tests/%/*.c)))
TEST_GROUPS := $(patsubst %/,%,$(sort $(dir $(wildcard $(TEST_SUITES:%=tests/%/*/*.c)))))
# a group's programs (GROUP.c, GROUP-*.c) and its shared sources (the rest)
test_group_mains = $(filter $(1)/$(notdir $(1)).c $(1)/$(notdir $(1))-%.c,$(wildcard $(1)/*.c))
test_group_shared = $(filter-out $(call test_group_mains,$(1)),$(wildcard $(1)/*.c))
test_group_progs = $(patsubst $(1)/%.c,$(B)/$(dir $(1))%,$(call test_group_mains,$(1)))
# not TESTS: that name is the runner's filter (TESTS="a b" make check)
TEST_PROGS := $(TEST_SRCS:%.c=$(B)/%) $(foreach g,$(TEST_GROUPS),$(call test_group_progs,$(g)))
TESTLIB_SRCS := $(wildcard tests/lib/*.c)
TESTLIB_OBJS := $(TESTLIB_SRCS:%.c=$(B)/%.o)
FUZZ_SRCS := $(wildcard tests/fuzz/*_fuzz.c)
FUZZ_REPLAY := $(FUZZ_SRCS:tests/fuzz/%_fuzz.c=$(B)/fuzz/%-replay)
BENCH_SRCS := $(wildcard bench/*.c)
ULWIP_SRCS := $(wildcard unm-lwip/*.c)
ULWIP_OBJS := $(ULWIP_SRCS:%.c=$(B)/%.o)
ULWIP_STATIC := $(B)/libunm-lwip.a
VIF_SRCS := $(wildcard rumpvif/*.c)
VIF_OBJS := $(VIF_SRCS:%.c=$(B)/%.o)
VIF_STATIC := $(B)/libunm-virtif.a
DPDK_PLUGIN := $(if $(filter 1,$(HAVE_DPDK)),$(B)/libunm-dpdk.so)
ifeq ($(HAVE_LWIP),1)
ULWIP_ALL := $(ULWIP_STATIC)
else
ULWIP_ALL :=
TOOL_DIRS := $(filter-out unm-stack,$(TOOL_DIRS))
TOOLS    := $(TOOL_DIRS:%=$(B)/%)
endif
BENCHES  := $(BENCH_SRCS:%.c=$(B)/%)

STATIC   := $(B)/libunm.a
SHARED   := $(B)/libunm.so.$(LIBVER)

Q := @
ifeq ($(V),1)
Q :=
endif

UNMD := $(if $(DAEMON_SRCS),$(B)/unmd)

# netmap compatibility: compat/netmap/*.c -> libunm-netmap (.so, .a) and the
# LD_PRELOAD shim of unm-netmap-run (libunm linked in, its symbols hidden);
# tests/compat/*.c are netmap programs built with the pkg-config line.
NMC_SRCS := $(sort $(wildcard compat/netmap/*.c))
NMC_OBJS := $(NMC_SRCS:%.c=$(B)/%.o)
NMC_SONAME := libunm-netmap.so.0
NMC_SHARED := $(B)/libunm-netmap.so.$(LIBVER)
NMC_STATIC := $(B)/libunm-netmap.a
NMC_PRELOAD := $(B)/unm-netmap-preload.so
NMC_PC := $(B)/pkgconfig/unm-netmap.pc
NMC_HDRS := $(wildcard include/netmap-compat/*.h include/netmap-compat/net/*.h)
COMPAT_TEST_SRCS := $(sort $(wildcard tests/compat/*.c))
COMPAT_TESTS := $(COMPAT_TEST_SRCS:%.c=$(B)/%)
NMC_ALL := $(if $(NMC_SRCS),$(NMC_STATIC) $(NMC_SHARED) $(NMC_PRELOAD) $(NMC_PC) $(COMPAT_TESTS))

all: $(STATIC) $(SHARED) $(DPDK_PLUGIN) $(VIF_STATIC) $(ULWIP_ALL) $(UNMD) $(TOOLS) $(TEST_PROGS) $(FUZZ_REPLAY) $(BENCHES) $(NMC_ALL)

$(B)/gen/config-host.h: config-host.mak
	@mkdir -p $(dir $@)
	$(Q)cp config-host.h $@

$(B)/%.o: %.c config-host.mak $(B)/gen/config-host.h
	@mkdir -p $(dir $@)
	@[ "$(Q)" = "" ] || echo "  CC      $<"
	$(Q)$(CC) $(CFLAGS) $(INC) -fPIC $(XDP_CFLAGS) $(PCAP_CFLAGS) -c -o $@ $<

$(STATIC): $(LIB_OBJS)
	@[ "$(Q)" = "" ] || echo "  AR      $@"
	$(Q)rm -f $@ && ar rcs $@ $^

$(SHARED): $(LIB_OBJS) lib/libunm.map
	@[ "$(Q)" = "" ] || echo "  LD      $@"
	$(Q)$(CC) -shared -Wl,-soname,$(SONAME) -Wl,--version-script=lib/libunm.map \
		$(ZDEFS) $(LDFLAGS) -o $@ $(LIB_OBJS) $(LIB_LIBS)
	$(Q)ln -sf libunm.so.$(LIBVER) $(B)/$(SONAME) && ln -sf $(SONAME) $(B)/libunm.so

# The dpdk: port type: lib/backend/dpdk.c links DPDK's libraries into a
# plugin that libunm dlopen()s (lib/backend/dpdk_load.c), found next to the
# program or libunm, or in $(PREFIX)/lib/unetmap. DPDK's headers are
# -isystem (not ours to keep warning-free).
$(B)/lib/backend/dpdk.o: override CFLAGS += $(DPDK_CFLAGS)
$(B)/lib/backend/dpdk_load.o: override CFLAGS += -DUNM_PLUGIN_DIR='"$(PREFIX)/lib/unetmap"'
ifneq ($(DPDK_PLUGIN),)
$(DPDK_PLUGIN): $(B)/lib/backend/dpdk.o
	@[ "$(Q)" = "" ] || echo "  LD      $@"
	$(Q)$(CC) -shared $(LDFLAGS) -o $@ $< $(DPDK_LIBS) -lpthread
endif

# lwIP's headers only where lwIP is used (-isystem: its headers are not ours
# to keep warning-free)
$(B)/unm-lwip/%.o $(B)/tools/unm-stack/%.o: override CFLAGS += $(LWIP_CFLAGS)

$(ULWIP_STATIC): $(ULWIP_OBJS)
	@[ "$(Q)" = "" ] || echo "  AR      $@"
	$(Q)rm -f $@ && ar rcs $@ $^

$(B)/unm-stack: $(ULWIP_STATIC)
$(B)/unm-stack: TOOL_EXTRA = $(ULWIP_STATIC) $(LWIP_LIBS)

$(VIF_STATIC): $(VIF_OBJS)
	@[ "$(Q)" = "" ] || echo "  AR      $@"
	$(Q)rm -f $@ && ar rcs $@ $^

# the fake rump kernel test links the virtif backend
$(B)/tests/mp/rump-virtif: $(VIF_STATIC)
$(B)/tests/mp/rump-virtif: TEST_EXTRA = $(VIF_STATIC)

$(DAEMON_CORE): $(DAEMON_CORE_OBJS)
	@[ "$(Q)" = "" ] || echo "  AR      $@"
	$(Q)rm -f $@ && ar rcs $@ $^

$(B)/unmd: $(B)/daemon/main.o $(DAEMON_CORE) $(STATIC)
	@[ "$(Q)" = "" ] || echo "  LD      $@"
	$(Q)$(CC) $(LDFLAGS) -o $@ $(B)/daemon/main.o $(DAEMON_CORE) $(STATIC) $(LIB_LIBS) $(LDLIBS)

# One program per tools/NAME directory, linked statically with libunm.
.SECONDEXPANSION:
# (no '%' inside the function calls: make would substitute the stem there)
$(TOOLS): $(B)/%: $$(addprefix $(B)/,$$(addsuffix .o,$$(basename $$(wildcard tools/$$*/*.c)))) $(STATIC)
	@[ "$(Q)" = "" ] || echo "  LD      $@"
	$(Q)$(CC) $(LDFLAGS) -o $@ $(filter %.o,$^) $(TOOL_EXTRA) $(STATIC) $(LIB_LIBS) $(PCAP_LIBS) $(LDLIBS) -lm

$(TEST_SRCS:%.c=$(B)/%): $(B)/%: $(B)/%.o $(TESTLIB_OBJS) $(STATIC)
	@[ "$(Q)" = "" ] || echo "  LD      $@"
	$(Q)$(CC) $(LDFLAGS) -o $@ $< $(TESTLIB_OBJS) $(TEST_EXTRA) $(STATIC) $(LIB_LIBS) $(PCAP_LIBS) $(LDLIBS) -lm

# A group tests/SUITE/G/: $(B)/tests/SUITE/G-x from G-x.o and the group's
# shared objects.
define TEST_GROUP_RULE
$(call test_group_progs,$(1)): $(B)/$(dir $(1))%: $(B)/$(1)/%.o $(patsubst %.c,$(B)/%.o,$(call test_group_shared,$(1))) $(TESTLIB_OBJS) $(STATIC)
	@[ "$$(Q)" = "" ] || echo "  LD      $$@"
	$$(Q)$$(CC) $$(LDFLAGS) -o $$@ $$(filter %.o,$$^) $$(TEST_EXTRA) $$(STATIC) $$(LIB_LIBS) $$(PCAP_LIBS) $$(LDLIBS) -lm
endef
$(foreach g,$(TEST_GROUPS),$(eval $(call TEST_GROUP_RULE,$(g))))
# A build directory from before a file became a group holds a program
# where the group's objects now go (tests/hostile/unm-hostile): remove it.
$(foreach g,$(TEST_GROUPS),$(if $(wildcard $(B)/$(g)/.),,$(if $(wildcard $(B)/$(g)),$(shell rm -f $(B)/$(g)))))

$(BENCHES): $(B)/%: $(B)/%.o $(STATIC)
	@[ "$(Q)" = "" ] || echo "  LD      $@"
	$(Q)$(CC) $(LDFLAGS) -o $@ $< $(STATIC) $(LIB_LIBS) $(LDLIBS) -lm

# Fuzz targets may test unmd's core: libunmd.a before libunm.a (it uses it).
$(B)/fuzz/%-replay: $(B)/tests/fuzz/%_fuzz.o $(B)/tests/fuzz/replay_main.o $(DAEMON_CORE) $(STATIC)
	@mkdir -p $(dir $@)
	@[ "$(Q)" = "" ] || echo "  LD      $@"
	$(Q)$(CC) $(LDFLAGS) -o $@ $^ $(LIB_LIBS) $(LDLIBS)

$(NMC_OBJS): override CFLAGS += -Iinclude/netmap-compat

$(NMC_STATIC): $(NMC_OBJS)
	@[ "$(Q)" = "" ] || echo "  AR      $@"
	$(Q)rm -f $@ && ar rcs $@ $^

$(NMC_SHARED): $(NMC_OBJS) $(SHARED)
	@[ "$(Q)" = "" ] || echo "  LD      $@"
	$(Q)$(CC) -shared -Wl,-soname,$(NMC_SONAME) $(ZDEFS) $(LDFLAGS) -o $@ $(NMC_OBJS) \
		-L$(B) -Wl,-rpath,'$$ORIGIN' -lunm -ldl -lpthread
	$(Q)ln -sf libunm-netmap.so.$(LIBVER) $(B)/$(NMC_SONAME) && \
		ln -sf $(NMC_SONAME) $(B)/libunm-netmap.so

$(NMC_PRELOAD): $(NMC_OBJS) $(STATIC)
	@[ "$(Q)" = "" ] || echo "  LD      $@"
	$(Q)$(CC) -shared $(ZDEFS) $(LDFLAGS) -Wl,--exclude-libs,ALL -o $@ $(NMC_OBJS) \
		$(STATIC) $(LIB_LIBS) -ldl -lpthread

# pkg-config module for the build tree (tests); "make install" writes the
# installed one from compat/netmap/unm-netmap.pc.in.
$(NMC_PC): compat/netmap/unm-netmap.pc.in config-host.mak
	@mkdir -p $(dir $@)
	$(Q)sed -e 's|@VERSION@|$(LIBVER)|' \
		-e 's|^Cflags:.*|Cflags: -I$(CURDIR)/include/netmap-compat -I$(CURDIR)/include|' \
		-e 's|^Libs:.*|Libs: -L$(abspath $(B)) -Wl,-rpath,$(abspath $(B)) -lunm-netmap -lunm|' \
		-e 's|@PREFIX@|$(CURDIR)|' $< > $@

# Netmap programs: only the pkg-config line, warnings as errors.
$(COMPAT_TESTS): $(B)/%: %.c $(NMC_SHARED) $(NMC_PC) $(NMC_HDRS)
	@mkdir -p $(dir $@)
	@[ "$(Q)" = "" ] || echo "  CC+LD   $@"
	$(Q)$(CC) -O2 -g -Wall -Wextra -Werror $(SANFLAGS) -o $@ $< \
		$$(PKG_CONFIG_PATH=$(B)/pkgconfig pkg-config --cflags --libs unm-netmap)

# ---- tests ------------------------------------------------------------------

check: all
	@B=$(B) ./tests/run.sh $(TESTS_ARGS)

# tests over fetched code (netmap's own apps: $$NETMAP_SRC, $$NETMAP_2019_SRC)
check-ext: all
	@B=$(B) UNM_TESTS_EXT=1 TESTS="$${TESTS:-tests/ext/}" ./tests/run.sh

# ---- fuzzing (clang + libFuzzer) -----------------------------------------------
FUZZ_TIME ?= 60
FUZZ_B := build-fuzz
fuzz:
ifeq ($(HAVE_LIBFUZZER),1)
	@for f in $(FUZZ_SRCS); do \
		t=$$(basename $$f _fuzz.c); \
		$(MAKE) --no-print-directory B=$(FUZZ_B) CC=clang SANITIZE=1 \
			CFLAGS="-O1 -g -fsanitize=fuzzer-no-link" \
			$(FUZZ_B)/libunm.a $(FUZZ_B)/libunmd.a >/dev/null || exit 1; \
		echo "  FUZZ    $$t ($(FUZZ_TIME)s)"; \
		clang -std=gnu11 -g -O1 -D_GNU_SOURCE -Iinclude -I$(FUZZ_B)/gen -Ilib/internal-api \
			-fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined \
			-o $(FUZZ_B)/$$t-fuzz $$f $(FUZZ_B)/libunmd.a $(FUZZ_B)/libunm.a $(LIB_LIBS) || exit 1; \
		mkdir -p $(FUZZ_B)/corpus-$$t; \
		$(FUZZ_B)/$$t-fuzz -max_total_time=$(FUZZ_TIME) -print_final_stats=1 \
			-artifact_prefix=$(FUZZ_B)/$$t- \
			$(FUZZ_B)/corpus-$$t tests/fuzz/corpus/$$t > $(FUZZ_B)/$$t.log 2>&1; \
		rc=$$?; \
		grep -E 'stat::number_of_executed_units|stat::peak_rss|cov:.*ft:' \
			$(FUZZ_B)/$$t.log | tail -n 3; \
		if [ $$rc -ne 0 ]; then tail -n 40 $(FUZZ_B)/$$t.log; exit 1; fi; \
	done
else
	@echo "SKIP: make fuzz needs clang with libFuzzer (apt-get install clang libclang-rt-14-dev)"
endif

# ---- demo and benchmarks ---------------------------------------------------
# Only what the demo runs: the library, unmd, unm-pktgen and unm-ctl (not
# the tests and benchmarks that "all" builds).
DEMO_DEPS := $(STATIC) $(UNMD) $(B)/unm-pktgen $(B)/unm-ctl
demo: $(DEMO_DEPS)
	@B=$(B) ./bench/demo.sh

bench: all
	@B=$(B) ./bench/run-all.sh

# ---- install ------------------------------------------------------------------
INSTALL_TOOLS := $(TOOLS)
install: all
	install -d $(DESTDIR)$(PREFIX)/include/unm $(DESTDIR)$(PREFIX)/lib/pkgconfig \
		$(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(PREFIX)/sbin \
		$(DESTDIR)$(PREFIX)/share/man/man3 $(DESTDIR)$(PREFIX)/share/man/man7 \
		$(DESTDIR)$(PREFIX)/share/man/man8
	install -m 644 include/unm.h $(DESTDIR)$(PREFIX)/include/
	install -m 644 include/unm/*.h $(DESTDIR)$(PREFIX)/include/unm/
	install -m 644 $(STATIC) $(DESTDIR)$(PREFIX)/lib/
	install -m 755 $(SHARED) $(DESTDIR)$(PREFIX)/lib/
	$(if $(ULWIP_ALL),install -m 644 $(ULWIP_ALL) $(DESTDIR)$(PREFIX)/lib/)
	install -m 644 $(VIF_STATIC) $(DESTDIR)$(PREFIX)/lib/
	ln -sf libunm.so.$(LIBVER) $(DESTDIR)$(PREFIX)/lib/$(SONAME)
	ln -sf $(SONAME) $(DESTDIR)$(PREFIX)/lib/libunm.so
	sed -e 's|@PREFIX@|$(PREFIX)|' -e 's|@VERSION@|$(LIBVER)|' lib/libunm.pc.in \
		> $(DESTDIR)$(PREFIX)/lib/pkgconfig/libunm.pc
	$(if $(UNMD),install -m 755 $(UNMD) $(DESTDIR)$(PREFIX)/sbin/)
	$(if $(INSTALL_TOOLS),install -m 755 $(INSTALL_TOOLS) $(DESTDIR)$(PREFIX)/bin/)
	install -d $(DESTDIR)$(PREFIX)/include/unm/netmap-compat/net $(DESTDIR)$(PREFIX)/lib/unetmap
	install -m 644 include/netmap-compat/*.h $(DESTDIR)$(PREFIX)/include/unm/netmap-compat/
	install -m 644 include/netmap-compat/net/*.h $(DESTDIR)$(PREFIX)/include/unm/netmap-compat/net/
	install -m 644 $(NMC_STATIC) $(DESTDIR)$(PREFIX)/lib/
	install -m 755 $(NMC_SHARED) $(DESTDIR)$(PREFIX)/lib/
	ln -sf libunm-netmap.so.$(LIBVER) $(DESTDIR)$(PREFIX)/lib/$(NMC_SONAME)
	ln -sf $(NMC_SONAME) $(DESTDIR)$(PREFIX)/lib/libunm-netmap.so
	install -m 755 $(NMC_PRELOAD) $(DESTDIR)$(PREFIX)/lib/unetmap/
	$(if $(DPDK_PLUGIN),install -m 755 $(DPDK_PLUGIN) $(DESTDIR)$(PREFIX)/lib/unetmap/)
	sed -e 's|@PREFIX@|$(PREFIX)|' -e 's|@VERSION@|$(LIBVER)|' compat/netmap/unm-netmap.pc.in \
		> $(DESTDIR)$(PREFIX)/lib/pkgconfig/unm-netmap.pc
	for m in $(wildcard man/man3/*.3); do install -m 644 $$m $(DESTDIR)$(PREFIX)/share/man/man3/; done
	for m in $(wildcard man/man7/*.7); do install -m 644 $$m $(DESTDIR)$(PREFIX)/share/man/man7/; done
	for m in $(wildcard man/man8/*.8 daemon/*.8 tools/*/*.8); do install -m 644 $$m $(DESTDIR)$(PREFIX)/share/man/man8/; done
	@# a real install (no DESTDIR, so not a package build) must refresh the
	@# loader cache, or the first run says libunm.so.0 cannot be found
	$(if $(DESTDIR),,$(LDCONFIG) || echo "warning: $(LDCONFIG) failed: run it as root before using libunm.so.0")
	install -d $(DESTDIR)$(UNITDIR) $(DESTDIR)$(SYSUSERSDIR)
	sed -e 's|@SBINDIR@|$(PREFIX)/sbin|' -e 's|@SYSUSERSDIR@|$(SYSUSERSDIR)|' \
		daemon/unmd.service > $(DESTDIR)$(UNITDIR)/unmd.service
	chmod 644 $(DESTDIR)$(UNITDIR)/unmd.service
	install -m 644 daemon/unetmap.sysusers $(DESTDIR)$(SYSUSERSDIR)/unetmap.conf
	@# the group itself is made by systemd-sysusers from that file: at boot
	@# (for a PREFIX it scans, /usr) and by the unit before each start;
	@# install changes nothing on the system but these files

uninstall:
	rm -f $(DESTDIR)$(PREFIX)/include/unm.h
	rm -rf $(DESTDIR)$(PREFIX)/include/unm
	rm -f $(DESTDIR)$(PREFIX)/lib/libunm.* $(DESTDIR)$(PREFIX)/lib/libunm-virtif.a $(DESTDIR)$(PREFIX)/lib/libunm-lwip.a $(DESTDIR)$(PREFIX)/lib/pkgconfig/libunm.pc
	rm -f $(DESTDIR)$(PREFIX)/lib/libunm-netmap.* $(DESTDIR)$(PREFIX)/lib/pkgconfig/unm-netmap.pc
	rm -rf $(DESTDIR)$(PREFIX)/lib/unetmap
	rm -f $(DESTDIR)$(PREFIX)/sbin/unmd
	rm -f $(INSTALL_TOOLS:$(B)/%=$(DESTDIR)$(PREFIX)/bin/%)
	for m in $(notdir $(wildcard man/man3/*.3)); do rm -f $(DESTDIR)$(PREFIX)/share/man/man3/$$m; done
	for m in $(notdir $(wildcard man/man7/*.7)); do rm -f $(DESTDIR)$(PREFIX)/share/man/man7/$$m; done
	for m in $(notdir $(wildcard man/man8/*.8 daemon/*.8 tools/*/*.8)); do rm -f $(DESTDIR)$(PREFIX)/share/man/man8/$$m; done
	rm -f $(DESTDIR)$(UNITDIR)/unmd.service $(DESTDIR)$(SYSUSERSDIR)/unetmap.conf

clean:
	rm -rf build build-san build-fuzz

distclean: clean
	rm -f config-host.mak config-host.h config.log

.PHONY: all check check-ext fuzz demo bench install uninstall clean distclean
.DELETE_ON_ERROR:
.SECONDARY:

-include $(shell find $(B) -name '*.d' 2>/dev/null)
