package main

import (
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestPageShowsTheTextOfMain(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		_, _ = w.Write([]byte("<!doctype html>\n<title>not shown</title>\n<main>\n<h1>Ticket #3 needs your decision</h1>\n" +
			"<dl>\n<dt>Ticket</dt><dd>#3 Tom &amp; Jerry</dd>\n<dt>Note</dt><dd class=\"note\">180 EUR</dd>\n</dl>\n\n" +
			"<button>Approve</button>\n</main>\n<footer>not shown</footer>\n"))
	}))
	defer srv.Close()
	var out strings.Builder
	if err := page(srv.URL, &out); err != nil {
		t.Fatal(err)
	}
	want := "HTTP 200 text/html; charset=utf-8\nTicket #3 needs your decision\nTicket: #3 Tom & Jerry\nNote: 180 EUR\nApprove\n"
	if out.String() != want {
		t.Fatalf("page printed\n%s\nwant\n%s", out.String(), want)
	}
}

func TestSinkWritesEachMessagesText(t *testing.T) {
	dir := t.TempDir()
	s := &sink{dir: dir}
	msg := "Subject: hi\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n" +
		"Approve: http://127.0.0.1:1/approval/abc?decision=3Dapp=\r\nrove\r\n"
	for range 2 {
		if err := s.Data(strings.NewReader(msg)); err != nil {
			t.Fatal(err)
		}
	}
	for _, name := range []string{"1.txt", "2.txt"} {
		got, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		if want := "Approve: http://127.0.0.1:1/approval/abc?decision=approve\n"; string(got) != want {
			t.Fatalf("%s = %q, want %q", name, got, want)
		}
	}
}
