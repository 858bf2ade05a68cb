package integration

import (
	"strings"
	"testing"
)

func TestParseReadmeDirectives(t *testing.T) {
	doc := "# t\n\n<!-- readme: background 127.0.0.1:1 -->\n```bash\nserve\n```\n\n" +
		"```text\nout\n```\n<!-- readme: skip why -->\n```bash\nnever\n```\n" +
		"<!-- readme: retry 2 -->\n```bash\ncheck\n```\n"
	blocks, err := parseReadme(doc)
	if err != nil {
		t.Fatal(err)
	}
	want := []readmeBlock{
		{line: 4, lang: "bash", text: "serve\n", directive: "background", arg: "127.0.0.1:1"},
		{line: 8, lang: "text", text: "out\n"},
		{line: 12, lang: "bash", text: "never\n", directive: "skip", arg: "why"},
		{line: 16, lang: "bash", text: "check\n", directive: "retry", arg: "2"},
	}
	if len(blocks) != len(want) {
		t.Fatalf("got %d blocks, want %d: %+v", len(blocks), len(want), blocks)
	}
	for i := range want {
		if blocks[i] != want[i] {
			t.Errorf("block %d = %+v, want %+v", i, blocks[i], want[i])
		}
	}
	script, ran, err := readmeScript(blocks)
	if err != nil || ran != 2 {
		t.Fatalf("script: ran %d, err %v", ran, err)
	}
	for _, s := range []string{"serve\n} >bg-0.log 2>&1 &", "/dev/tcp/127.0.0.1/1", "check\n  ); then break"} {
		if !strings.Contains(script, s) {
			t.Errorf("script lacks %q:\n%s", s, script)
		}
	}
	if strings.Contains(script, "never") {
		t.Errorf("a skipped block is in the script:\n%s", script)
	}
}

func TestParseReadmeRejectsBadDirectives(t *testing.T) {
	for _, doc := range []string{
		"<!-- readme: frobnicate -->\n```bash\nx\n```\n",
		"<!-- readme: skip x -->\ntext between\n```bash\nx\n```\n",
		"```bash\nunterminated\n",
	} {
		if _, err := parseReadme(doc); err == nil {
			t.Errorf("parseReadme(%q) accepted", doc)
		}
	}
}
