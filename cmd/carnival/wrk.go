package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// wrkLoad drives url with wrk (Debian package wrk), a load generator in C
// that costs the shared cores far less than a Go client; PERFORMANCE.md's
// ceiling of "about 58 000 req/s for hello world" is measured with it. The
// bodies are sent in turn by a Lua script.
func wrkLoad(ctx context.Context, url, key string, bodies [][]byte, conc int, dur time.Duration) (loadResult, error) {
	var lua strings.Builder
	lua.WriteString("local bodies = {\n")
	for _, b := range bodies {
		fmt.Fprintf(&lua, "  %q,\n", string(b))
	}
	lua.WriteString("}\nlocal i = 0\nwrk.method = \"POST\"\nwrk.headers[\"Content-Type\"] = \"application/json\"\n")
	if key != "" {
		fmt.Fprintf(&lua, "wrk.headers[\"Authorization\"] = %q\n", "Bearer "+key)
	}
	// Every request gets its own Idempotency-Key (orders and flash buys
	// require one): the run, the thread (numbered in setup) and a count.
	fmt.Fprintf(&lua, "local run = %q\nlocal threads, n = 0, 0\nfunction setup(thread)\n  threads = threads + 1\n  thread:set(\"tid\", threads)\nend\n", idemRun+"-"+strconv.FormatInt(idemSeq.Add(1), 36))
	lua.WriteString("request = function()\n  i = i % #bodies + 1\n  n = n + 1\n  wrk.headers[\"Idempotency-Key\"] = run .. \"-\" .. tostring(tid) .. \"-\" .. n\n  return wrk.format(nil, nil, nil, bodies[i])\nend\n")
	return runWrk(ctx, lua.String(), url, conc, dur)
}

// runWrk runs wrk (2 threads) with the Lua script against url and reads
// its report.
func runWrk(ctx context.Context, script, url string, conc int, dur time.Duration) (loadResult, error) {
	dir, err := os.MkdirTemp("", "carnival-wrk-")
	if err != nil {
		return loadResult{}, err
	}
	defer os.RemoveAll(dir)
	path := filepath.Join(dir, "load.lua")
	if err := os.WriteFile(path, []byte(script), 0o600); err != nil {
		return loadResult{}, err
	}
	secs := max(1, int(dur/time.Second))
	cmd := exec.CommandContext(ctx, "wrk", "-t2", "-c"+strconv.Itoa(conc), "-d"+strconv.Itoa(secs)+"s", "--latency", "-s", path, url)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Run(); err != nil {
		return loadResult{}, fmt.Errorf("wrk: %v\n%s", err, out.String())
	}
	return parseWrk(out.String())
}

var (
	wrkRate     = regexp.MustCompile(`Requests/sec:\s+([\d.]+)`)
	wrkTotal    = regexp.MustCompile(`(\d+) requests in`)
	wrkNon2xx   = regexp.MustCompile(`Non-2xx or 3xx responses:\s+(\d+)`)
	wrkSockErrs = regexp.MustCompile(`Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)`)
	wrkPct      = regexp.MustCompile(`(?m)^\s+(50|99)%\s+([\d.]+)(us|ms|s)\s*$`)
)

func parseWrk(s string) (loadResult, error) {
	var r loadResult
	m := wrkRate.FindStringSubmatch(s)
	t := wrkTotal.FindStringSubmatch(s)
	if m == nil || t == nil {
		return r, fmt.Errorf("cannot read wrk's output:\n%s", s)
	}
	r.rate, _ = strconv.ParseFloat(m[1], 64)
	r.answered = r.rate
	total, _ := strconv.ParseInt(t[1], 10, 64)
	if e := wrkNon2xx.FindStringSubmatch(s); e != nil {
		r.failed, _ = strconv.ParseInt(e[1], 10, 64)
		r.non2xx = r.failed
	}
	if e := wrkSockErrs.FindStringSubmatch(s); e != nil {
		for _, v := range e[1:] {
			n, _ := strconv.ParseInt(v, 10, 64)
			r.failed += n
		}
	}
	r.ok = total - r.failed
	r.rate = r.rate * float64(r.ok) / float64(max(total, 1))
	for _, p := range wrkPct.FindAllStringSubmatch(s, -1) {
		v, _ := strconv.ParseFloat(p[2], 64)
		unit := map[string]time.Duration{"us": time.Microsecond, "ms": time.Millisecond, "s": time.Second}[p[3]]
		d := time.Duration(v * float64(unit))
		if p[1] == "50" {
			r.p50 = d
		} else {
			r.p99 = d
		}
	}
	return r, nil
}
