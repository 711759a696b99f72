package main

import (
	"bufio"
	"fmt"
	"net"
	"net/http"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestSIGTERMFinishesTheRequestInFlight sends half a request, stops the
// server with SIGTERM, then sends the rest: the request is answered, new
// connections are refused, and the server exits cleanly.
func TestSIGTERMFinishesTheRequestInFlight(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the binary; skipped with -short")
	}
	bin := buildBinary(t)
	store := []string{"--data", t.TempDir()}
	shop := cli(t, bin, append([]string{"shops", "create", "--name", "Shutdown"}, store...)...)
	admin := cli(t, bin, append([]string{"keys", "create", "--role", "admin", "--shop", shop}, store...)...)
	srv := start(t, bin, store)
	addr := strings.TrimPrefix(srv.base, "http://")

	body := `{"items":[{"code":"P1","name":"商品","skus":[{"code":"S1","price":100,"stock":5}]}]}`
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	fmt.Fprintf(conn, "PUT /api/v1/products HTTP/1.1\r\nHost: %s\r\nAuthorization: Bearer %s\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n%s",
		addr, admin, len(body), body[:20])
	time.Sleep(200 * time.Millisecond) // the server has read the headers: the connection is active
	if err := srv.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	// New connections are refused once shutdown has begun.
	refused := false
	for i := 0; i < 50 && !refused; i++ {
		time.Sleep(20 * time.Millisecond)
		if c, err := net.Dial("tcp", addr); err != nil {
			refused = true
		} else {
			c.Close()
		}
	}
	if !refused {
		t.Error("the server still accepts connections after SIGTERM")
	}
	if _, err := conn.Write([]byte(body[20:])); err != nil {
		t.Fatal(err)
	}
	conn.SetReadDeadline(time.Now().Add(5 * time.Second))
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatalf("the in-flight request got no answer: %v", err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("the in-flight request got %d", resp.StatusCode)
	}
	done := make(chan error, 1)
	go func() { done <- srv.cmd.Wait() }()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("server exited with %v", err)
		}
	case <-time.After(10 * time.Second):
		srv.cmd.Process.Kill()
		t.Fatal("server did not exit after finishing the request")
	}
}
