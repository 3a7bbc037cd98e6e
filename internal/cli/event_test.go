package cli_test

import (
	"encoding/json"
	"strings"
	"testing"
)

func TestEventVerb(t *testing.T) {
	code, out, _ := cliMain(t, "event", "sqs", "--body", "hi", "--count", "2", "--time", "2026-03-12T19:03:58Z")
	var ev struct {
		Records []struct {
			Body, MessageID string
		}
	}
	if code != 0 || json.Unmarshal([]byte(out), &ev) != nil || len(ev.Records) != 2 || ev.Records[0].Body != "hi" {
		t.Fatalf("event sqs: %d %s", code, out)
	}
	_, again, _ := cliMain(t, "event", "sqs", "--body", "hi", "--count", "2", "--time", "2026-03-12T19:03:58Z")
	if again != out {
		t.Error("the same flags gave two different events")
	}
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"event", "kinesis"}, `unknown event type "kinesis": use one of apigateway, http-api`},
		{[]string{"event", "sqs", "--bucket", "b"}, "--bucket does not apply to a sqs event"},
		{[]string{"event", "http-api", "--time", "yesterday"}, "write RFC 3339"},
		{[]string{"event", "dynamodb", "--keys", "pk=a"}, `--keys "pk=a": write a JSON object`},
	} {
		code, _, errOut := cliMain(t, c.args...)
		if code != 2 || !strings.Contains(errOut, c.want) {
			t.Errorf("%v: exit %d, stderr %q, want %q", c.args, code, errOut, c.want)
		}
	}
}
