package dockerfile

import (
	"errors"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// seed002 is the shape of the Dockerfile in the project's seed 002: two
// stages pinned to two platforms, the default (last) one for amd64.
const seed002 = `# for Mac M1
FROM --platform=linux/arm64 public.ecr.aws/lambda/python:3.9 AS build-arm64

COPY requirements.txt  .
RUN  pip3 install -r requirements.txt --target "${LAMBDA_TASK_ROOT}" --verbose
COPY . ${LAMBDA_TASK_ROOT}

# CMD [ "handler.handler" ]

# for Lambda Runtime
FROM --platform=linux/amd64 public.ecr.aws/lambda/python:3.9

# Install the function's dependencies using file requirements.txt
# from your project folder.
COPY requirements.txt  .
RUN  pip3 install -r requirements.txt \
     --target "${LAMBDA_TASK_ROOT}" \
     --verbose
COPY . ${LAMBDA_TASK_ROOT}

CMD [ "handler.handler" ]
`

func TestParseSeed002(t *testing.T) {
	f, err := Parse(strings.NewReader(seed002), "Dockerfile")
	if err != nil {
		t.Fatal(err)
	}
	if len(f.Stages) != 2 || f.Stages[0].Name != "build-arm64" || f.Stages[0].Platform != "linux/arm64" || f.Stages[1].Platform != "linux/amd64" {
		t.Fatalf("stages %+v", f.Stages)
	}
	last, _ := f.Stage("")
	var got []string
	for _, s := range last.Steps {
		got = append(got, s.Cmd+" "+strings.Join(s.Args, "|"))
	}
	want := []string{
		"COPY requirements.txt|.",
		"RUN pip3|install|-r|requirements.txt|--target|${LAMBDA_TASK_ROOT}|--verbose",
		"COPY .|${LAMBDA_TASK_ROOT}",
		"CMD handler.handler",
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Fatal(diff)
	}
	if last.Steps[1].Line != 16 || !last.Steps[3].JSON {
		t.Errorf("line %d json %v", last.Steps[1].Line, last.Steps[3].JSON)
	}
	if s, err := f.Stage("BUILD-ARM64"); err != nil || s.Image != "public.ecr.aws/lambda/python:3.9" {
		t.Errorf("Stage(build-arm64) = %v, %v", s, err)
	}
	if _, err := f.Stage("nope"); err == nil {
		t.Error("an unknown stage was found")
	}
}

func TestParseRefuses(t *testing.T) {
	for _, tc := range []struct{ text, want string }{
		{"FROM python:3.12\nUSER nobody\n", "Dockerfile:2: USER is not supported without a container"},
		{"FROM python:3.12\nEXPOSE 8080\n", "needs a real container build"},
		{"ENV A=1\nFROM python:3.12\n", "only ARG may come before FROM"},
		{"# escape=`\nFROM python:3.12\n", "escape directive"},
		{"ARG X=1\n", "no FROM"},
		{"FROM a b c d\n", "FROM takes an image"},
		{"FROM --foo=bar python\n", "FROM --foo"},
		{"FROM python\nRUN echo 'open\n", "unterminated quote"},
	} {
		_, err := Parse(strings.NewReader(tc.text), "Dockerfile")
		var de *Error
		if err == nil || !strings.Contains(err.Error(), tc.want) || (!errors.As(err, &de) && tc.want != "") {
			t.Errorf("Parse(%q) = %v, want %q", tc.text, err, tc.want)
		}
	}
}

func TestExpandAndKeyValues(t *testing.T) {
	vars := map[string]string{"A": "1", "ROOT": "/var/task", "EMPTY": ""}
	for in, want := range map[string]string{
		"$A":               "1",
		"${ROOT}/x":        "/var/task/x",
		"${MISSING:-d}":    "d",
		"${EMPTY:-d}":      "d",
		"${A:+set}":        "set",
		"${MISSING:+set}":  "",
		`\$A`:              "$A",
		"a$":               "a$",
		"$A$ROOT":          "1/var/task",
		"${ROOT:-${A}}":    "/var/task",
		"${MISSING:-${A}}": "1",
	} {
		if got := Expand(in, vars); got != want {
			t.Errorf("Expand(%q) = %q, want %q", in, got, want)
		}
	}
	f, err := Parse(strings.NewReader("ARG V\nARG W=2\nFROM x\nENV A=1 B=\"two words\"\nENV LEGACY some value here\nLABEL k=v\n"), "D")
	if err != nil {
		t.Fatal(err)
	}
	if kv, _ := KeyValues(f.Args[0]); kv[0] != [2]string{"V", "\x00"} {
		t.Errorf("ARG V: %q", kv)
	}
	steps := f.Stages[0].Steps
	if kv, _ := KeyValues(steps[0]); !cmp.Equal(kv, [][2]string{{"A", "1"}, {"B", "two words"}}) {
		t.Errorf("ENV: %q", kv)
	}
	if kv, _ := KeyValues(steps[1]); !cmp.Equal(kv, [][2]string{{"LEGACY", "some value here"}}) {
		t.Errorf("legacy ENV: %q", kv)
	}
}
