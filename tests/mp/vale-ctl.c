// SPDX-License-Identifier: BSD-2-Clause
/*
 * Description: unm-ctl against a private unmd: persistent ports (add,
 * open by a client with the persistent geometry, refuse del while in
 * use, del), ATTACH of an in-daemon port (null) that receives floods,
 * list / stats / mac in text and -j JSON (parsed with jq or python3),
 * switch set lossless, a live stats view (-w), and the exit codes:
 * 0 ok, 1 runtime failure, 2 usage error, --help on stdout.
 */
#include <errno.h>
#include <sys/wait.h>
#include <unm.h>
#include "../lib/test.h"
#include "../lib/unmd.h"

static char out[65536];

/* Run "unm-ctl ARGS" (shell words), capture stdout; returns the exit code. */
static int ctl(const char *args)
{
	return t_ctl_run(args, out, sizeof(out));
}

/* Parse "unm-ctl -j ARGS" with a JSON parser and evaluate jq FILTER. */
static int json_ok(const char *args, const char *filter)
{
	char cmd[1024];

	if (system("command -v jq >/dev/null 2>&1") == 0)
		snprintf(cmd, sizeof(cmd), "%s -j %s | jq -e '%s' >/dev/null", t_prog("unm-ctl"),
			 args, filter);
	else if (system("command -v python3 >/dev/null 2>&1") == 0)
		snprintf(cmd, sizeof(cmd), "%s -j %s | python3 -c 'import json,sys; json.load(sys.stdin)'",
			 t_prog("unm-ctl"), args);
	else
		return 1;
	return system(cmd) == 0;
}

int main(void)
{
	static const uint8_t bcast[6] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };
	struct unm_port_info info = { .sz = sizeof(info) };
	uint8_t f[128], r[2048];
	struct unm_port *a, *b, *pp;
	struct unm_ctl_port_info pi;
	pid_t d;

	t_watchdog(20);
	if (access(t_prog("unm-ctl"), X_OK))
		T_SKIP("no unm-ctl at %s", t_prog("unm-ctl"));
	d = t_unmd_start(NULL);
	a = t_open("vale0:a");
	b = t_open("vale0:b");

	T_ASSERT_EQ(ctl("--help"), 0);
	T_ASSERT(!strncmp(out, "Usage: unm-ctl", 14));
	T_ASSERT_EQ(ctl("frobnicate"), 2);
	T_ASSERT_EQ(ctl("switch set vale0 lossless maybe"), 2);
	T_ASSERT_EQ(ctl("mac vale7"), 1);
	T_ASSERT_EQ(ctl("-s /tmp/nonexistent-unmd.sock list"), 1);

	T_ASSERT_EQ(ctl("port add vale0:pp@conf:slots=128,bufsize=1024"), 0);
	T_ASSERT_EQ(ctl("port add vale0:pp"), 1);
	T_ASSERT_EQ(ctl("attach vale0 null"), 0);
	T_ASSERT_EQ(ctl("attach vale0 vale1:x"), 1);
	T_ASSERT_EQ(ctl("list"), 0);
	T_ASSERT(strstr(out, "vale0: 4 ports"));
	T_ASSERT(strstr(out, "vale0:pp type csb flags <persistent>"));
	T_ASSERT(strstr(out, "vale0:null type null flags <attached,pooled>"));
	T_ASSERT(json_ok("list", ".[0].ports == 4 and (.[0].port_list | length) == 4"));

	/* a client takes the persistent port: its geometry is the port's */
	pp = t_open("vale0:pp@conf:slots=512");
	T_ASSERT_EQ(unm_port_info(pp, &info), 0);
	T_ASSERT_EQ(info.tx_slots, 128);
	T_ASSERT_EQ(info.buf_size, 1024);
	T_ASSERT_EQ(ctl("port del vale0:pp"), 1);

	/* a broadcast reaches b, pp and the attached null port */
	T_ASSERT_EQ(t_send(a, f, t_frame(f, 100, bcast, 1, 1), 1000), 0);
	T_ASSERT_EQ(t_recv(b, r, sizeof(r), 2000), 100);
	T_ASSERT_EQ(t_recv(pp, r, sizeof(r), 2000), 100);
	T_ASSERT_EQ(t_port_info("vale0:null", &pi), 0);
	T_ASSERT_EQ(pi.rx_frames, 1);
	T_ASSERT_EQ(t_port_info("vale0:a", &pi), 0);
	T_ASSERT_EQ(pi.tx_delivered, 3);

	T_ASSERT_EQ(ctl("stats vale0:a"), 0);
	T_ASSERT(strstr(out, "tx 1 frames 100 bytes delivered 3 extra-copies 2"));
	/* four ports, then the switch's totals (every port, closed ones too) */
	T_ASSERT(json_ok("stats", "length == 5 and (.[] | select(.name == \"a\") | .tx_frames == 1) "
			 "and .[4].flags == \"total\" and .[4].tx_frames == 1"));
	T_ASSERT_EQ(ctl("mac vale0"), 0);
	T_ASSERT(strstr(out, "02:00:00:00:00:01 port 0 (a)"));
	T_ASSERT(json_ok("mac vale0", ".[0].mac == \"02:00:00:00:00:01\""));
	T_ASSERT_EQ(ctl("switch set vale0 lossless on"), 0);
	T_ASSERT(json_ok("list", ".[0].lossless == true"));
	T_ASSERT(json_ok("switch set vale0 lossless off", ".result == \"ok\""));
	T_ASSERT_EQ(ctl("-j stats vale0:a -w 0.2 & p=$!; sleep 0.7; kill -INT $p; wait $p"), 0);
	T_ASSERT(strstr(out, "\"tx_pps\""));

	unm_close(pp);
	for (int i = 0; i < 100; i++) {
		T_ASSERT_EQ(t_port_info("vale0:pp", &pi), 0);
		if (!(pi.flags & UNM_CTL_PORT_CLIENT))
			break;
		usleep(10000);
	}
	T_ASSERT_EQ(ctl("port del vale0:pp"), 0);
	T_ASSERT_EQ(ctl("port del vale0:pp"), 1);
	T_ASSERT_EQ(ctl("detach vale0 null"), 0);
	T_ASSERT_EQ(ctl("detach vale0 a"), 1);
	T_ASSERT(json_ok("list", ".[0].ports == 2"));
	unm_close(a);
	unm_close(b);
	T_ASSERT_EQ(t_unmd_stop(d), 0);
	printf("ok\n");
	return 0;
}
