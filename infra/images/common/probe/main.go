// lucid-probe: the exec-form health check of images that have no shell (and often no curl).
//
//	lucid-probe tcp HOST:PORT            a TCP connection opens
//	lucid-probe unix PATH                a connection to the Unix socket at PATH opens
//	lucid-probe http URL [STATUS]        a GET answers STATUS (default 200)
//
// Exit 0 when healthy, 1 otherwise; every check gives up after 3 seconds.
package main

import (
	"fmt"
	"net"
	"net/http"
	"os"
	"strconv"
	"time"
)

const timeout = 3 * time.Second

func main() {
	if err := run(os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, "lucid-probe:", err)
		os.Exit(1)
	}
}

func run(args []string) error {
	if len(args) < 2 {
		return fmt.Errorf("usage: lucid-probe tcp HOST:PORT | unix PATH | http URL [STATUS]")
	}
	switch args[0] {
	case "tcp", "unix":
		conn, err := net.DialTimeout(args[0], args[1], timeout)
		if err != nil {
			return err
		}
		return conn.Close()
	case "http":
		want := http.StatusOK
		if len(args) > 2 {
			n, err := strconv.Atoi(args[2])
			if err != nil {
				return fmt.Errorf("STATUS must be a number, got %q", args[2])
			}
			want = n
		}
		client := http.Client{Timeout: timeout}
		resp, err := client.Get(args[1])
		if err != nil {
			return err
		}
		defer resp.Body.Close()
		if resp.StatusCode != want {
			return fmt.Errorf("%s answered %d, want %d", args[1], resp.StatusCode, want)
		}
		return nil
	default:
		return fmt.Errorf("unknown check %q (tcp | unix | http)", args[0])
	}
}
