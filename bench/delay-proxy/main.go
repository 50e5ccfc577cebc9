// delay-proxy puts a broker "DELAY away" from the clients of scripts/bench.sh on a kernel without netem.
//
// The clients run in their own network namespace, where 127.0.0.1:PORT is this proxy's inner half
// instead of the broker, so the address the broker advertises in its metadata (127.0.0.1:PORT) leads
// the clients back through the proxy, and TLS still sees the name its certificate was made for. The
// inner half forwards each connection over a Unix socket (a file, so both namespaces reach it) to the
// outer half in the root namespace, which connects to the real 127.0.0.1:PORT.
//
// The inner half delays every chunk in each direction by DELAY (so a round trip costs 2×DELAY): a
// reader stamps each chunk as it arrives and a writer releases it at stamp+DELAY, so many chunks are in
// flight at once and the delay does not cap throughput (at most 64 MiB is held per direction and
// connection; beyond that the reader waits). The outer half copies without delay.
//
//	delay-proxy outer DIR PORT...            root namespace: DIR/PORT.sock -> 127.0.0.1:PORT
//	delay-proxy inner DIR DELAY PORT...      client namespace: 127.0.0.1:PORT -> DIR/PORT.sock, delayed
//	delay-proxy echo PORT                    an echo server on 127.0.0.1:PORT (for ping)
//	delay-proxy ping PORT N                  N round trips of 64 bytes to 127.0.0.1:PORT; prints the median
package main

import (
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"time"
)

const (
	chunkSize = 64 << 10
	maxQueued = 1024 // chunks per direction and connection: 64 MiB
)

func fail(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "delay-proxy: "+format+"\n", args...)
	os.Exit(2)
}

func main() {
	if len(os.Args) < 3 {
		fail("usage: delay-proxy outer DIR PORT... | inner DIR DELAY PORT... | echo PORT | ping PORT N")
	}
	switch args := os.Args[2:]; os.Args[1] {
	case "outer":
		for _, port := range ports(args[1:]) {
			path := filepath.Join(args[0], port+".sock")
			os.Remove(path)
			l, err := net.Listen("unix", path)
			if err != nil {
				fail("%v", err)
			}
			go serve(l, func() (net.Conn, error) { return net.Dial("tcp", "127.0.0.1:"+port) }, 0)
		}
		select {}
	case "inner":
		if len(args) < 3 {
			fail("usage: delay-proxy inner DIR DELAY PORT...")
		}
		delay, err := time.ParseDuration(args[1])
		if err != nil {
			fail("DELAY: %v", err)
		}
		for _, port := range ports(args[2:]) {
			l, err := net.Listen("tcp", "127.0.0.1:"+port)
			if err != nil {
				fail("%v", err)
			}
			path := filepath.Join(args[0], port+".sock")
			go serve(l, func() (net.Conn, error) { return net.Dial("unix", path) }, delay)
		}
		select {}
	case "echo":
		l, err := net.Listen("tcp", "127.0.0.1:"+ports(args)[0])
		if err != nil {
			fail("%v", err)
		}
		for {
			c, err := l.Accept()
			if err != nil {
				fail("%v", err)
			}
			go func() { io.Copy(c, c); c.Close() }()
		}
	case "ping":
		if len(args) != 2 {
			fail("usage: delay-proxy ping PORT N")
		}
		n, err := strconv.Atoi(args[1])
		if err != nil || n < 1 {
			fail("N must be a positive number")
		}
		ping(ports(args[:1])[0], n)
	default:
		fail("unknown mode %q", os.Args[1])
	}
}

func ports(args []string) []string {
	if len(args) == 0 {
		fail("no PORT given")
	}
	for _, p := range args {
		if n, err := strconv.Atoi(p); err != nil || n < 1 || n > 65535 {
			fail("PORT %q is not a port number", p)
		}
	}
	return args
}

// serve accepts connections on l and joins each to a connection from dial, delaying both directions.
func serve(l net.Listener, dial func() (net.Conn, error), delay time.Duration) {
	for {
		in, err := l.Accept()
		if err != nil {
			fail("accept: %v", err)
		}
		go func() {
			out, err := dial()
			if err != nil {
				fmt.Fprintf(os.Stderr, "delay-proxy: %v\n", err)
				in.Close()
				return
			}
			if t, ok := in.(*net.TCPConn); ok {
				t.SetNoDelay(true)
			}
			if t, ok := out.(*net.TCPConn); ok {
				t.SetNoDelay(true)
			}
			done := make(chan struct{}, 2)
			go pump(in, out, delay, done)
			go pump(out, in, delay, done)
			<-done
			<-done
			in.Close()
			out.Close()
		}()
	}
}

type chunk struct {
	data []byte // nil: the source closed
	due  time.Time
}

// pump copies src to dst, each chunk released DELAY after it was read.
func pump(src, dst net.Conn, delay time.Duration, done chan<- struct{}) {
	defer func() { done <- struct{}{} }()
	if delay == 0 {
		io.Copy(dst, src)
		closeWrite(dst)
		return
	}
	queue := make(chan chunk, maxQueued)
	go func() {
		for {
			buf := make([]byte, chunkSize)
			n, err := src.Read(buf)
			if n > 0 {
				queue <- chunk{buf[:n], time.Now().Add(delay)}
			}
			if err != nil {
				queue <- chunk{nil, time.Now().Add(delay)}
				return
			}
		}
	}()
	for c := range queue {
		if wait := time.Until(c.due); wait > 0 {
			time.Sleep(wait)
		}
		if c.data == nil {
			closeWrite(dst)
			return
		}
		if _, err := dst.Write(c.data); err != nil {
			src.Close() // unblocks the reader; its last chunk ends this loop
			for c := range queue {
				if c.data == nil {
					return
				}
			}
		}
	}
}

func closeWrite(c net.Conn) {
	if cw, ok := c.(interface{ CloseWrite() error }); ok {
		cw.CloseWrite()
	} else {
		c.Close()
	}
}

func ping(port string, n int) {
	c, err := net.Dial("tcp", "127.0.0.1:"+port)
	if err != nil {
		fail("%v", err)
	}
	defer c.Close()
	c.(*net.TCPConn).SetNoDelay(true)
	msg, reply := make([]byte, 64), make([]byte, 64)
	rtts := make([]float64, 0, n)
	for i := 0; i < n; i++ {
		start := time.Now()
		if _, err := c.Write(msg); err != nil {
			fail("%v", err)
		}
		if _, err := io.ReadFull(c, reply); err != nil {
			fail("%v", err)
		}
		rtts = append(rtts, float64(time.Since(start).Microseconds())/1000)
	}
	sort.Float64s(rtts)
	fmt.Printf("round trip over %d pings: min %.2f ms, median %.2f ms, max %.2f ms\n", n, rtts[0], rtts[n/2], rtts[n-1])
}
