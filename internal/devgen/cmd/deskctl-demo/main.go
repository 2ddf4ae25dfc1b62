// Command deskctl-demo does the few things the scripted tour (make demo,
// testdata/demo.sh) needs that a fresh machine may lack tools for: a mail
// server that keeps what deskctl sends, a free port for deskctl serve, and a
// look at a served page as text.
//
//	deskctl-demo mailsink DIR   receive mail on 127.0.0.1: write the address to DIR/addr,
//	                            then each message's text part to DIR/1.txt, DIR/2.txt, …
//	                            until SIGINT or SIGTERM
//	deskctl-demo freeport       print a TCP port free on 127.0.0.1
//	deskctl-demo page URL       GET URL and print the page's text, one line per line of
//	                            markup, without tags or blank lines
//
// Exit status: 0 done, 1 failure, 2 usage.
package main

import (
	"fmt"
	"html"
	"io"
	"log"
	"net"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/deskctl/deskctl/internal/mail/mailtest"
	"github.com/emersion/go-smtp"
)

func main() {
	os.Exit(run(os.Args[1:]))
}

func run(args []string) int {
	var err error
	switch {
	case len(args) == 2 && args[0] == "mailsink":
		err = mailsink(args[1])
	case len(args) == 1 && args[0] == "freeport":
		err = freeport()
	case len(args) == 2 && args[0] == "page":
		err = page(args[1], os.Stdout)
	default:
		fmt.Fprintln(os.Stderr, "usage: deskctl-demo mailsink DIR | freeport | page URL")
		return 2
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "deskctl-demo:", err)
		return 1
	}
	return 0
}

func freeport() error {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	defer ln.Close()
	fmt.Println(ln.Addr().(*net.TCPAddr).Port)
	return nil
}

// mailsink accepts every message and writes its text part to dir.
func mailsink(dir string) error {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	s := &sink{dir: dir}
	srv := smtp.NewServer(smtp.BackendFunc(func(*smtp.Conn) (smtp.Session, error) { return s, nil }))
	srv.Domain = "localhost"
	srv.ReadTimeout, srv.WriteTimeout = 30*time.Second, 30*time.Second
	srv.ErrorLog = log.New(io.Discard, "", 0)
	// Written once listening, so whoever waits for the file can connect.
	if err := os.WriteFile(filepath.Join(dir, "addr"), []byte(ln.Addr().String()+"\n"), 0o600); err != nil {
		return err
	}
	stop := make(chan os.Signal, 1)
	signal.Notify(stop, os.Interrupt, syscall.SIGTERM)
	go func() { <-stop; srv.Close() }()
	if err := srv.Serve(ln); err != nil && err != smtp.ErrServerClosed {
		return err
	}
	return nil
}

// sink is the session of every connection: the demo sends one message at a
// time and needs nothing of the envelope.
type sink struct {
	dir string
	mu  sync.Mutex
	n   int
}

func (s *sink) Mail(string, *smtp.MailOptions) error { return nil }
func (s *sink) Rcpt(string, *smtp.RcptOptions) error { return nil }
func (s *sink) Reset()                               {}
func (s *sink) Logout() error                        { return nil }

func (s *sink) Data(r io.Reader) error {
	raw, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.n++
	return os.WriteFile(filepath.Join(s.dir, strconv.Itoa(s.n)+".txt"), []byte(mailtest.Parse(raw).Text), 0o600)
}

var (
	tag      = regexp.MustCompile(`<[^>]*>`)
	fieldSep = regexp.MustCompile(`</dt>\s*<dd[^>]*>`)
)

// page prints the text inside the page's <main>: a line of markup becomes a
// line of text, a definition list entry "term: value".
func page(url string, w io.Writer) error {
	c := &http.Client{Timeout: 10 * time.Second}
	resp, err := c.Get(url)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return err
	}
	text := string(body)
	if i := strings.Index(text, "<main>"); i >= 0 {
		text = text[i:]
	}
	if i := strings.Index(text, "</main>"); i >= 0 {
		text = text[:i]
	}
	fmt.Fprintf(w, "HTTP %d %s\n", resp.StatusCode, resp.Header.Get("Content-Type"))
	for line := range strings.Lines(fieldSep.ReplaceAllString(text, ": ")) {
		if t := strings.TrimSpace(html.UnescapeString(tag.ReplaceAllString(line, ""))); t != "" {
			fmt.Fprintln(w, t)
		}
	}
	return nil
}
