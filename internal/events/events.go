package events

import (
	"crypto/md5"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"
)

// Type is one kind of event `lambdapack event` writes.
type Type struct {
	Name    string
	Aliases []string
	Summary string
	// Flags are the Options fields (by flag name) the type reads.
	Flags []string
}

// Types lists the event types.
func Types() []Type {
	httpFlags := []string{"method", "path", "query", "header", "body", "path-param", "stage", "resource"}
	return []Type{
		{"apigateway", []string{"rest", "api", "apigateway-rest"}, "API Gateway REST API proxy event (payload format 1.0)", httpFlags},
		{"http-api", []string{"httpapi", "apigatewayv2", "apigateway-http"}, "API Gateway HTTP API event (payload format 2.0)", httpFlags},
		{"function-url", []string{"url", "lambda-url"}, "Lambda function URL event (payload format 2.0)", []string{"method", "path", "query", "header", "body"}},
		{"sqs", []string{"sqs-receive"}, "SQS messages", []string{"body", "queue", "count", "attribute"}},
		{"sns", []string{"sns-notification"}, "SNS notification", []string{"message", "topic", "subject", "attribute"}},
		{"s3", []string{"s3-put"}, "S3 event notification", []string{"bucket", "key", "event-name", "size", "etag"}},
		{"eventbridge", []string{"events", "cloudwatch-event"}, "EventBridge event", []string{"source", "detail-type", "detail", "resource-arn"}},
		{"schedule", []string{"scheduled", "cron"}, "EventBridge scheduled rule event", []string{"rule"}},
		{"dynamodb", []string{"ddb", "dynamodb-stream"}, "DynamoDB Streams records", []string{"table", "event-name", "keys", "new-image", "old-image", "view-type", "count"}},
	}
}

// LookupType finds a type by name or alias.
func LookupType(name string) (Type, error) {
	n := strings.ToLower(strings.TrimSpace(name))
	var names []string
	for _, t := range Types() {
		if t.Name == n || slices.Contains(t.Aliases, n) {
			return t, nil
		}
		names = append(names, t.Name)
	}
	return Type{}, fmt.Errorf("unknown event type %q: use one of %s", name, strings.Join(names, ", "))
}

// Options are the usual fields of the events; each type reads its own.
type Options struct {
	Region, Account string
	Time            time.Time

	// HTTP events.
	Method, Path, Query string
	Headers             []string // "Name: value" or "Name=value"
	Body                string
	PathParams          []string // "name=value"
	Stage, Resource     string

	// SQS, SNS.
	Queue      string
	Count      int
	Attributes []string // "name=value"
	Message    string
	Topic      string
	Subject    string

	// S3.
	Bucket, Key, EventName, ETag string
	Size                         int64

	// EventBridge, schedule.
	Source, DetailType, Detail string
	Resources                  []string
	Rule                       string

	// DynamoDB Streams.
	Table, Keys, NewImage, OldImage, ViewType string
}

func (o *Options) defaults() {
	if o.Region == "" {
		o.Region = "us-east-1"
	}
	if o.Account == "" {
		o.Account = "123456789012"
	}
	if o.Time.IsZero() {
		o.Time = time.Now()
	}
	o.Time = o.Time.UTC()
	if o.Count <= 0 {
		o.Count = 1
	}
}

// Generate returns a sample event of the type, indented JSON.
func Generate(typeName string, o Options) ([]byte, error) {
	t, err := LookupType(typeName)
	if err != nil {
		return nil, err
	}
	o.defaults()
	var ev any
	switch t.Name {
	case "apigateway", "http-api", "function-url":
		r, err := o.httpRequest()
		if err != nil {
			return nil, err
		}
		switch t.Name {
		case "apigateway":
			ev = V1(r)
		case "http-api":
			if r.RouteKey == "" {
				r.RouteKey = r.Method + " " + firstNonEmpty(o.Resource, r.Path)
			}
			ev = V2(r)
		default:
			r.FunctionURL = true
			r.APIID = strings.ReplaceAll(deterministicID("url", o.Region, o.Account), "-", "")[:32]
			ev = V2(r)
		}
	case "sqs":
		ev, err = o.sqs()
	case "sns":
		ev, err = o.sns()
	case "s3":
		ev = o.s3()
	case "eventbridge":
		ev, err = o.eventBridge()
	case "schedule":
		ev = o.schedule()
	case "dynamodb":
		ev, err = o.dynamoDB()
	}
	if err != nil {
		return nil, err
	}
	b, err := json.MarshalIndent(ev, "", "  ")
	if err != nil {
		return nil, err
	}
	return append(b, '\n'), nil
}

func firstNonEmpty(vs ...string) string {
	for _, v := range vs {
		if v != "" {
			return v
		}
	}
	return ""
}

func (o *Options) httpRequest() (HTTPRequest, error) {
	r := HTTPRequest{
		Method: strings.ToUpper(firstNonEmpty(o.Method, "GET")), Path: firstNonEmpty(o.Path, "/"),
		RawQuery: strings.TrimPrefix(o.Query, "?"), Header: http.Header{}, Body: []byte(o.Body),
		Region: o.Region, Account: o.Account, Time: o.Time, Stage: o.Stage, Resource: o.Resource,
	}
	if !strings.HasPrefix(r.Path, "/") {
		return r, fmt.Errorf("--path %q: a path starts with /", o.Path)
	}
	if _, err := url.ParseQuery(r.RawQuery); err != nil {
		return r, fmt.Errorf("--query %q: %w", o.Query, err)
	}
	r.Header.Set("Accept", "*/*")
	r.Header.Set("Host", "1234567890.execute-api."+o.Region+".amazonaws.com")
	r.Header.Set("User-Agent", "curl/8.5.0")
	for _, h := range o.Headers {
		k, v, ok := strings.Cut(h, ":")
		if !ok {
			k, v, ok = strings.Cut(h, "=")
		}
		if !ok || strings.TrimSpace(k) == "" {
			return r, fmt.Errorf("--header %q: write Name: value", h)
		}
		r.Header.Add(strings.TrimSpace(k), strings.TrimSpace(v))
	}
	if o.Body != "" && r.Header.Get("Content-Type") == "" {
		ct := "text/plain"
		if json.Valid([]byte(o.Body)) {
			ct = "application/json"
		}
		r.Header.Set("Content-Type", ct)
		r.Header.Set("Content-Length", strconv.Itoa(len(o.Body)))
	}
	params, err := pairs(o.PathParams, "--path-param")
	if err != nil {
		return r, err
	}
	r.PathParameters = params
	return r, nil
}

// pairs reads name=value flags.
func pairs(list []string, flag string) (map[string]string, error) {
	if len(list) == 0 {
		return nil, nil
	}
	m := map[string]string{}
	for _, p := range list {
		k, v, ok := strings.Cut(p, "=")
		if !ok || k == "" {
			return nil, fmt.Errorf("%s %q: write name=value", flag, p)
		}
		m[k] = v
	}
	return m, nil
}

// deterministicID makes a UUID-shaped id from parts, so that the same
// options give the same event.
func deterministicID(parts ...string) string {
	h := sha256.Sum256([]byte(strings.Join(parts, "\x00")))
	s := hex.EncodeToString(h[:16])
	return s[0:8] + "-" + s[8:12] + "-4" + s[13:16] + "-a" + s[17:20] + "-" + s[20:32]
}

func isoMillis(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05.000Z") }

// SQS.

type sqsEvent struct {
	Records []sqsRecord `json:"Records"`
}

type sqsRecord struct {
	MessageID         string                     `json:"messageId"`
	ReceiptHandle     string                     `json:"receiptHandle"`
	Body              string                     `json:"body"`
	Attributes        map[string]string          `json:"attributes"`
	MessageAttributes map[string]sqsMessageValue `json:"messageAttributes"`
	MD5OfBody         string                     `json:"md5OfBody"`
	EventSource       string                     `json:"eventSource"`
	EventSourceARN    string                     `json:"eventSourceARN"`
	AWSRegion         string                     `json:"awsRegion"`
}

type sqsMessageValue struct {
	StringValue      string   `json:"stringValue"`
	StringListValues []string `json:"stringListValues"`
	BinaryListValues []string `json:"binaryListValues"`
	DataType         string   `json:"dataType"`
}

func (o *Options) sqs() (any, error) {
	queue := firstNonEmpty(o.Queue, "my-queue")
	body := firstNonEmpty(o.Body, "Hello from SQS!")
	attrs, err := pairs(o.Attributes, "--attribute")
	if err != nil {
		return nil, err
	}
	ev := sqsEvent{}
	for i := range o.Count {
		id := deterministicID("sqs", queue, body, strconv.Itoa(i), o.Time.String())
		sum := md5.Sum([]byte(body))
		rec := sqsRecord{
			MessageID: id, ReceiptHandle: "AQEB" + strings.ReplaceAll(deterministicID("receipt", id), "-", ""),
			Body: body,
			Attributes: map[string]string{
				"ApproximateReceiveCount": "1", "SentTimestamp": strconv.FormatInt(o.Time.UnixMilli(), 10),
				"SenderId": "AIDAIENQZJOLO23YVJ4VO", "ApproximateFirstReceiveTimestamp": strconv.FormatInt(o.Time.UnixMilli()+2, 10),
			},
			MessageAttributes: map[string]sqsMessageValue{},
			MD5OfBody:         hex.EncodeToString(sum[:]), EventSource: "aws:sqs",
			EventSourceARN: fmt.Sprintf("arn:aws:sqs:%s:%s:%s", o.Region, o.Account, queue), AWSRegion: o.Region,
		}
		for k, v := range attrs {
			rec.MessageAttributes[k] = sqsMessageValue{StringValue: v, StringListValues: []string{}, BinaryListValues: []string{}, DataType: "String"}
		}
		ev.Records = append(ev.Records, rec)
	}
	return ev, nil
}

// SNS.

type snsEvent struct {
	Records []snsRecord `json:"Records"`
}

type snsRecord struct {
	EventVersion         string     `json:"EventVersion"`
	EventSubscriptionArn string     `json:"EventSubscriptionArn"`
	EventSource          string     `json:"EventSource"`
	Sns                  snsMessage `json:"Sns"`
}

type snsMessage struct {
	SignatureVersion  string                     `json:"SignatureVersion"`
	Timestamp         string                     `json:"Timestamp"`
	Signature         string                     `json:"Signature"`
	SigningCertURL    string                     `json:"SigningCertUrl"`
	MessageID         string                     `json:"MessageId"`
	Message           string                     `json:"Message"`
	MessageAttributes map[string]snsMessageValue `json:"MessageAttributes"`
	Type              string                     `json:"Type"`
	UnsubscribeURL    string                     `json:"UnsubscribeUrl"`
	TopicArn          string                     `json:"TopicArn"`
	Subject           *string                    `json:"Subject"`
}

type snsMessageValue struct {
	Type  string `json:"Type"`
	Value string `json:"Value"`
}

func (o *Options) sns() (any, error) {
	topic := firstNonEmpty(o.Topic, "my-topic")
	arn := fmt.Sprintf("arn:aws:sns:%s:%s:%s", o.Region, o.Account, topic)
	sub := arn + ":" + deterministicID("subscription", arn)
	msg := firstNonEmpty(o.Message, "Hello from SNS!")
	attrs, err := pairs(o.Attributes, "--attribute")
	if err != nil {
		return nil, err
	}
	m := snsMessage{
		SignatureVersion: "1", Timestamp: isoMillis(o.Time), Signature: "EXAMPLE",
		SigningCertURL: "https://sns." + o.Region + ".amazonaws.com/SimpleNotificationService-EXAMPLE.pem",
		MessageID:      deterministicID("sns", arn, msg, o.Time.String()), Message: msg,
		MessageAttributes: map[string]snsMessageValue{}, Type: "Notification",
		UnsubscribeURL: "https://sns." + o.Region + ".amazonaws.com/?Action=Unsubscribe&SubscriptionArn=" + sub,
		TopicArn:       arn,
	}
	if o.Subject != "" {
		m.Subject = &o.Subject
	}
	for k, v := range attrs {
		m.MessageAttributes[k] = snsMessageValue{Type: "String", Value: v}
	}
	return snsEvent{Records: []snsRecord{{EventVersion: "1.0", EventSubscriptionArn: sub, EventSource: "aws:sns", Sns: m}}}, nil
}

// S3.

type s3Event struct {
	Records []s3Record `json:"Records"`
}

type s3Record struct {
	EventVersion      string            `json:"eventVersion"`
	EventSource       string            `json:"eventSource"`
	AWSRegion         string            `json:"awsRegion"`
	EventTime         string            `json:"eventTime"`
	EventName         string            `json:"eventName"`
	UserIdentity      map[string]string `json:"userIdentity"`
	RequestParameters map[string]string `json:"requestParameters"`
	ResponseElements  map[string]string `json:"responseElements"`
	S3                s3Entity          `json:"s3"`
}

type s3Entity struct {
	SchemaVersion   string   `json:"s3SchemaVersion"`
	ConfigurationID string   `json:"configurationId"`
	Bucket          s3Bucket `json:"bucket"`
	Object          s3Object `json:"object"`
}

type s3Bucket struct {
	Name          string            `json:"name"`
	OwnerIdentity map[string]string `json:"ownerIdentity"`
	Arn           string            `json:"arn"`
}

type s3Object struct {
	Key       string `json:"key"`
	Size      int64  `json:"size,omitempty"`
	ETag      string `json:"eTag,omitempty"`
	Sequencer string `json:"sequencer"`
}

func (o *Options) s3() any {
	bucket := firstNonEmpty(o.Bucket, "amzn-s3-demo-bucket")
	key := firstNonEmpty(o.Key, "test/key.txt")
	name := firstNonEmpty(o.EventName, "ObjectCreated:Put")
	name = strings.TrimPrefix(name, "s3:")
	size, etag := o.Size, o.ETag
	if size == 0 && !strings.HasPrefix(name, "ObjectRemoved") {
		size = 1024
	}
	if etag == "" && !strings.HasPrefix(name, "ObjectRemoved") {
		etag = strings.ReplaceAll(deterministicID("etag", bucket, key), "-", "")
	}
	// Keys are URL-encoded in S3 events, spaces as "+".
	encKey := url.QueryEscape(key)
	encKey = strings.ReplaceAll(encKey, "%2F", "/")
	return s3Event{Records: []s3Record{{
		EventVersion: "2.1", EventSource: "aws:s3", AWSRegion: o.Region, EventTime: isoMillis(o.Time), EventName: name,
		UserIdentity:      map[string]string{"principalId": "AWS:AIDAINPONIXQXHT3IKHL2"},
		RequestParameters: map[string]string{"sourceIPAddress": "127.0.0.1"},
		ResponseElements:  map[string]string{"x-amz-request-id": "D82B88E5F771F645", "x-amz-id-2": "vlR7PnpV2Ce81l0PRw6jlUpck7Jo5ZsQjryTjKlc5aLWGVHPZLj5NeC6qMa0emYBDXOo6QBU0Wo="},
		S3: s3Entity{
			SchemaVersion: "1.0", ConfigurationID: deterministicID("config", bucket),
			Bucket: s3Bucket{Name: bucket, OwnerIdentity: map[string]string{"principalId": "A3I5XTEXAMAI3E"}, Arn: "arn:aws:s3:::" + bucket},
			Object: s3Object{Key: encKey, Size: size, ETag: etag, Sequencer: strings.ToUpper(fmt.Sprintf("%018x", o.Time.UnixNano()))[:18]},
		},
	}}}
}

// EventBridge and scheduled rules.

type eventBridgeEvent struct {
	Version    string          `json:"version"`
	ID         string          `json:"id"`
	DetailType string          `json:"detail-type"`
	Source     string          `json:"source"`
	Account    string          `json:"account"`
	Time       string          `json:"time"`
	Region     string          `json:"region"`
	Resources  []string        `json:"resources"`
	Detail     json.RawMessage `json:"detail"`
}

func (o *Options) eventBridge() (any, error) {
	detail := json.RawMessage(`{}`)
	if o.Detail != "" {
		if !json.Valid([]byte(o.Detail)) {
			return nil, fmt.Errorf("--detail %q is not JSON", o.Detail)
		}
		detail = json.RawMessage(o.Detail)
	} else if o.Source == "" {
		detail = json.RawMessage(`{"orderId":"1234","status":"CREATED"}`)
	}
	src := firstNonEmpty(o.Source, "com.example.orders")
	dt := firstNonEmpty(o.DetailType, "Order Created")
	res := o.Resources
	if res == nil {
		res = []string{}
	}
	return eventBridgeEvent{
		Version: "0", ID: deterministicID("events", src, dt, string(detail), o.Time.String()), DetailType: dt, Source: src,
		Account: o.Account, Time: o.Time.Format("2006-01-02T15:04:05Z"), Region: o.Region, Resources: res, Detail: detail,
	}, nil
}

func (o *Options) schedule() any {
	rule := firstNonEmpty(o.Rule, "my-schedule")
	return eventBridgeEvent{
		Version: "0", ID: deterministicID("schedule", rule, o.Time.String()), DetailType: "Scheduled Event", Source: "aws.events",
		Account: o.Account, Time: o.Time.Format("2006-01-02T15:04:05Z"), Region: o.Region,
		Resources: []string{fmt.Sprintf("arn:aws:events:%s:%s:rule/%s", o.Region, o.Account, rule)}, Detail: json.RawMessage(`{}`),
	}
}

// DynamoDB Streams.

type dynamoEvent struct {
	Records []dynamoRecord `json:"Records"`
}

type dynamoRecord struct {
	EventID        string       `json:"eventID"`
	EventName      string       `json:"eventName"`
	EventVersion   string       `json:"eventVersion"`
	EventSource    string       `json:"eventSource"`
	AWSRegion      string       `json:"awsRegion"`
	Dynamodb       dynamoChange `json:"dynamodb"`
	EventSourceARN string       `json:"eventSourceARN"`
}

type dynamoChange struct {
	ApproximateCreationDateTime int64          `json:"ApproximateCreationDateTime"`
	Keys                        map[string]any `json:"Keys"`
	NewImage                    map[string]any `json:"NewImage,omitempty"`
	OldImage                    map[string]any `json:"OldImage,omitempty"`
	SequenceNumber              string         `json:"SequenceNumber"`
	SizeBytes                   int            `json:"SizeBytes"`
	StreamViewType              string         `json:"StreamViewType"`
}

func (o *Options) dynamoDB() (any, error) {
	table := firstNonEmpty(o.Table, "my-table")
	name := strings.ToUpper(firstNonEmpty(o.EventName, "INSERT"))
	if !slices.Contains([]string{"INSERT", "MODIFY", "REMOVE"}, name) {
		return nil, fmt.Errorf("--event-name %q: a DynamoDB stream record is INSERT, MODIFY or REMOVE", o.EventName)
	}
	view := strings.ToUpper(firstNonEmpty(o.ViewType, "NEW_AND_OLD_IMAGES"))
	if !slices.Contains([]string{"KEYS_ONLY", "NEW_IMAGE", "OLD_IMAGE", "NEW_AND_OLD_IMAGES"}, view) {
		return nil, fmt.Errorf("--view-type %q: use KEYS_ONLY, NEW_IMAGE, OLD_IMAGE or NEW_AND_OLD_IMAGES", o.ViewType)
	}
	keys, err := attributeMap(firstNonEmpty(o.Keys, `{"Id": 101}`), "--keys")
	if err != nil {
		return nil, err
	}
	var newImg, oldImg map[string]any
	if name != "REMOVE" && (view == "NEW_IMAGE" || view == "NEW_AND_OLD_IMAGES") {
		if newImg, err = attributeMap(firstNonEmpty(o.NewImage, `{"Id": 101, "Message": "New item!"}`), "--new-image"); err != nil {
			return nil, err
		}
	}
	if name != "INSERT" && (view == "OLD_IMAGE" || view == "NEW_AND_OLD_IMAGES") {
		if oldImg, err = attributeMap(firstNonEmpty(o.OldImage, `{"Id": 101, "Message": "Old item"}`), "--old-image"); err != nil {
			return nil, err
		}
	}
	stream := fmt.Sprintf("arn:aws:dynamodb:%s:%s:table/%s/stream/%s", o.Region, o.Account, table, o.Time.Format("2006-01-02T15:04:05.000"))
	ev := dynamoEvent{}
	for i := range o.Count {
		size, _ := json.Marshal([]any{keys, newImg, oldImg})
		ev.Records = append(ev.Records, dynamoRecord{
			EventID: strings.ReplaceAll(deterministicID("ddb", table, strconv.Itoa(i), o.Time.String()), "-", ""), EventName: name,
			EventVersion: "1.1", EventSource: "aws:dynamodb", AWSRegion: o.Region,
			Dynamodb: dynamoChange{
				ApproximateCreationDateTime: o.Time.Unix(), Keys: keys, NewImage: newImg, OldImage: oldImg,
				SequenceNumber: fmt.Sprintf("%d", 111+i), SizeBytes: len(size) / 2, StreamViewType: view,
			},
			EventSourceARN: stream,
		})
	}
	return ev, nil
}

// attributeMap reads a JSON object and writes it as DynamoDB attribute
// values ({"S": ...}, {"N": ...}, {"BOOL": ...}, {"NULL": true}, {"L": ...},
// {"M": ...}).
func attributeMap(s, flag string) (map[string]any, error) {
	dec := json.NewDecoder(strings.NewReader(s))
	dec.UseNumber()
	var m map[string]any
	if err := dec.Decode(&m); err != nil {
		return nil, fmt.Errorf("%s %q: write a JSON object, e.g. {\"Id\": 101, \"Name\": \"x\"}: %w", flag, s, err)
	}
	out := map[string]any{}
	for k, v := range m {
		out[k] = attributeValue(v)
	}
	return out, nil
}

func attributeValue(v any) any {
	switch v := v.(type) {
	case string:
		return map[string]any{"S": v}
	case json.Number:
		return map[string]any{"N": v.String()}
	case bool:
		return map[string]any{"BOOL": v}
	case nil:
		return map[string]any{"NULL": true}
	case []any:
		l := make([]any, len(v))
		for i, e := range v {
			l[i] = attributeValue(e)
		}
		return map[string]any{"L": l}
	case map[string]any:
		m := map[string]any{}
		keys := make([]string, 0, len(v))
		for k := range v {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			m[k] = attributeValue(v[k])
		}
		return map[string]any{"M": m}
	}
	return map[string]any{"S": fmt.Sprint(v)}
}
