package events

import (
	"encoding/base64"
	"encoding/json"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"
)

var fixed = time.Date(2026, 3, 12, 19, 3, 58, 390_000_000, time.UTC)

func decode(t *testing.T, b []byte) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatalf("%s: %v", b, err)
	}
	return m
}

func keys(m any) []string {
	var out []string
	for k := range m.(map[string]any) {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

func record(t *testing.T, m map[string]any) map[string]any {
	t.Helper()
	recs, ok := m["Records"].([]any)
	if !ok || len(recs) == 0 {
		t.Fatalf("no Records: %v", m)
	}
	return recs[0].(map[string]any)
}

// The keys of each event are the ones AWS's documentation shows.
func TestShapes(t *testing.T) {
	cases := []struct {
		typ  string
		o    Options
		path func(map[string]any) any
		want []string
	}{
		{"apigateway", Options{Method: "post", Path: "/items/42", Query: "a=1&a=2&b=3", Body: `{"x":1}`, Resource: "/items/{id}", PathParams: []string{"id=42"}}, func(m map[string]any) any { return m },
			[]string{"body", "headers", "httpMethod", "isBase64Encoded", "multiValueHeaders", "multiValueQueryStringParameters", "path", "pathParameters", "queryStringParameters", "requestContext", "resource", "stageVariables"}},
		{"apigateway", Options{}, func(m map[string]any) any { return m["requestContext"] },
			[]string{"accountId", "apiId", "domainName", "domainPrefix", "extendedRequestId", "httpMethod", "identity", "path", "protocol", "requestId", "requestTime", "requestTimeEpoch", "resourceId", "resourcePath", "stage"}},
		{"http-api", Options{Method: "GET", Path: "/items", Query: "a=1&a=2", Headers: []string{"Cookie: c1=v1; c2=v2"}}, func(m map[string]any) any { return m },
			[]string{"cookies", "headers", "isBase64Encoded", "queryStringParameters", "rawPath", "rawQueryString", "requestContext", "routeKey", "version"}},
		{"http-api", Options{}, func(m map[string]any) any { return m["requestContext"] },
			[]string{"accountId", "apiId", "domainName", "domainPrefix", "http", "requestId", "routeKey", "stage", "time", "timeEpoch"}},
		{"function-url", Options{}, func(m map[string]any) any { return m["requestContext"].(map[string]any)["http"] },
			[]string{"method", "path", "protocol", "sourceIp", "userAgent"}},
		{"sqs", Options{}, func(m map[string]any) any { return record(t, m) },
			[]string{"attributes", "awsRegion", "body", "eventSource", "eventSourceARN", "md5OfBody", "messageAttributes", "messageId", "receiptHandle"}},
		{"sns", Options{Subject: "hi"}, func(m map[string]any) any { return record(t, m)["Sns"] },
			[]string{"Message", "MessageAttributes", "MessageId", "Signature", "SignatureVersion", "SigningCertUrl", "Subject", "Timestamp", "TopicArn", "Type", "UnsubscribeUrl"}},
		{"s3", Options{}, func(m map[string]any) any { return record(t, m) },
			[]string{"awsRegion", "eventName", "eventSource", "eventTime", "eventVersion", "requestParameters", "responseElements", "s3", "userIdentity"}},
		{"eventbridge", Options{}, func(m map[string]any) any { return m },
			[]string{"account", "detail", "detail-type", "id", "region", "resources", "source", "time", "version"}},
		{"schedule", Options{}, func(m map[string]any) any { return m },
			[]string{"account", "detail", "detail-type", "id", "region", "resources", "source", "time", "version"}},
		{"dynamodb", Options{EventName: "MODIFY"}, func(m map[string]any) any { return record(t, m)["dynamodb"] },
			[]string{"ApproximateCreationDateTime", "Keys", "NewImage", "OldImage", "SequenceNumber", "SizeBytes", "StreamViewType"}},
	}
	for _, c := range cases {
		c.o.Time = fixed
		b, err := Generate(c.typ, c.o)
		if err != nil {
			t.Fatalf("%s: %v", c.typ, err)
		}
		if got := keys(c.path(decode(t, b))); !slices.Equal(got, c.want) {
			t.Errorf("%s keys\n%v\nwant\n%v", c.typ, got, c.want)
		}
		again, _ := Generate(c.typ, c.o)
		if string(again) != string(b) {
			t.Errorf("%s: the same options gave two different events", c.typ)
		}
	}
}

func TestFieldValues(t *testing.T) {
	b, _ := Generate("apigateway", Options{Time: fixed, Method: "post", Path: "/items/42", Query: "a=1&a=2", Stage: "dev", Resource: "/items/{id}", PathParams: []string{"id=42"}, Body: `{"x":1}`, Region: "eu-west-1"})
	m := decode(t, b)
	rc := m["requestContext"].(map[string]any)
	if m["httpMethod"] != "POST" || m["resource"] != "/items/{id}" || m["body"] != `{"x":1}` ||
		m["queryStringParameters"].(map[string]any)["a"] != "2" || len(m["multiValueQueryStringParameters"].(map[string]any)["a"].([]any)) != 2 ||
		m["pathParameters"].(map[string]any)["id"] != "42" || rc["path"] != "/dev/items/42" || rc["stage"] != "dev" ||
		rc["requestTime"] != "12/Mar/2026:19:03:58 +0000" || rc["requestTimeEpoch"] != float64(fixed.UnixMilli()) ||
		rc["domainName"] != "1234567890.execute-api.eu-west-1.amazonaws.com" {
		t.Errorf("REST event:\n%s", b)
	}
	b, _ = Generate("http-api", Options{Time: fixed, Query: "a=1&a=2", Headers: []string{"X-Multi: 1", "X-Multi: 2", "Cookie: c1=v1; c2=v2"}})
	m = decode(t, b)
	if m["routeKey"] != "GET /" || m["headers"].(map[string]any)["x-multi"] != "1,2" || m["queryStringParameters"].(map[string]any)["a"] != "1,2" ||
		len(m["cookies"].([]any)) != 2 || m["headers"].(map[string]any)["cookie"] != nil {
		t.Errorf("HTTP API event:\n%s", b)
	}
	b, _ = Generate("function-url", Options{Time: fixed})
	m = decode(t, b)
	rc = m["requestContext"].(map[string]any)
	if m["routeKey"] != "$default" || !strings.HasSuffix(rc["domainName"].(string), ".lambda-url.us-east-1.on.aws") || len(rc["apiId"].(string)) != 32 {
		t.Errorf("function URL event:\n%s", b)
	}
	b, _ = Generate("sqs", Options{Time: fixed, Body: "test", Count: 3, Queue: "q"})
	recs := decode(t, b)["Records"].([]any)
	r0 := recs[0].(map[string]any)
	if len(recs) != 3 || r0["md5OfBody"] != "098f6bcd4621d373cade4e832627b4f6" || r0["eventSourceARN"] != "arn:aws:sqs:us-east-1:123456789012:q" || r0["messageId"] == recs[1].(map[string]any)["messageId"] {
		t.Errorf("SQS event:\n%s", b)
	}
	b, _ = Generate("s3", Options{Time: fixed, Bucket: "b", Key: "my dir/a b.txt"})
	s3 := record(t, decode(t, b))["s3"].(map[string]any)
	if s3["object"].(map[string]any)["key"] != "my+dir/a+b.txt" || s3["bucket"].(map[string]any)["arn"] != "arn:aws:s3:::b" {
		t.Errorf("S3 event:\n%s", b)
	}
	b, _ = Generate("dynamodb", Options{Time: fixed, EventName: "modify", Keys: `{"pk": "a", "n": 1}`, NewImage: `{"pk": "a", "tags": ["x"], "m": {"ok": true, "none": null}}`})
	ddb := record(t, decode(t, b))
	img, _ := json.Marshal(ddb["dynamodb"].(map[string]any)["NewImage"])
	if ddb["eventName"] != "MODIFY" || string(img) != `{"m":{"M":{"none":{"NULL":true},"ok":{"BOOL":true}}},"pk":{"S":"a"},"tags":{"L":[{"S":"x"}]}}` {
		t.Errorf("DynamoDB event:\n%s\nNewImage %s", b, img)
	}
	b, _ = Generate("schedule", Options{Time: fixed, Rule: "nightly", Region: "us-east-2"})
	if m := decode(t, b); m["detail-type"] != "Scheduled Event" || m["source"] != "aws.events" || m["resources"].([]any)[0] != "arn:aws:events:us-east-2:123456789012:rule/nightly" || m["time"] != "2026-03-12T19:03:58Z" {
		t.Errorf("schedule event:\n%s", b)
	}
	for _, bad := range []struct {
		typ string
		o   Options
	}{
		{"nope", Options{}}, {"http-api", Options{Path: "items"}}, {"http-api", Options{Headers: []string{"novalue"}}},
		{"eventbridge", Options{Detail: "{"}}, {"dynamodb", Options{EventName: "UPSERT"}}, {"dynamodb", Options{Keys: "[1]"}},
	} {
		if _, err := Generate(bad.typ, bad.o); err == nil {
			t.Errorf("Generate(%s, %+v) accepted", bad.typ, bad.o)
		}
	}
}

func TestBinaryBody(t *testing.T) {
	r := HTTPRequest{Method: "POST", Path: "/", Header: http.Header{"Content-Type": {"image/png"}}, Body: []byte{0x89, 'P', 'N', 'G'}, Time: fixed}
	ev := V2(r)
	if !ev.IsBase64Encoded || *ev.Body != base64.StdEncoding.EncodeToString(r.Body) {
		t.Errorf("binary body: %v %v", ev.IsBase64Encoded, *ev.Body)
	}
}

func TestResponse(t *testing.T) {
	cases := []struct {
		payload, format string
		status          int
		body            string
		header          map[string][]string
		fails           bool
	}{
		{`{"statusCode": 201, "headers": {"X-A": "1", "X-N": 2}, "body": "made"}`, Format2, 201, "made", map[string][]string{"X-A": {"1"}, "X-N": {"2"}}, false},
		{`{"statusCode": 200, "multiValueHeaders": {"X-M": ["a", "b"]}, "body": "aGk=", "isBase64Encoded": true}`, Format1, 200, "hi", map[string][]string{"X-M": {"a", "b"}}, false},
		{`{"statusCode": 200, "cookies": ["a=1", "b=2"], "body": "x"}`, Format2, 200, "x", map[string][]string{"Set-Cookie": {"a=1", "b=2"}}, false},
		// HTTP APIs infer a response from an answer without statusCode.
		{`{"hello": "world"}`, Format2, 200, `{"hello": "world"}`, map[string][]string{"Content-Type": {"application/json"}}, false},
		{`"just text"`, Format2, 200, "just text", nil, false},
		// A REST API needs a proxy response.
		{`{"hello": "world"}`, Format1, 0, "", nil, true},
		{`"text"`, Format1, 0, "", nil, true},
		{`{"statusCode": 200, "body": {"a": 1}}`, Format1, 0, "", nil, true},
		{`{"statusCode": 99}`, Format2, 0, "", nil, true},
		{`{"statusCode": 200, "body": "!!", "isBase64Encoded": true}`, Format2, 0, "", nil, true},
	}
	for _, c := range cases {
		res, err := Response([]byte(c.payload), c.format)
		if c.fails {
			if err == nil {
				t.Errorf("%s (%s): accepted as %d %q", c.payload, c.format, res.Status, res.Body)
			}
			continue
		}
		if err != nil || res.Status != c.status || string(res.Body) != c.body {
			t.Errorf("%s (%s): %d %q %v", c.payload, c.format, res.Status, res.Body, err)
		}
		for k, v := range c.header {
			if !slices.Equal(res.Header.Values(k), v) {
				t.Errorf("%s: header %s = %v, want %v", c.payload, k, res.Header.Values(k), v)
			}
		}
	}
	if bg := BadGateway(Format1); bg.Status != 502 || string(bg.Body) != `{"message": "Internal server error"}` {
		t.Errorf("REST 502: %s", bg.Body)
	}
}
