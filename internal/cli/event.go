package cli

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/lambdapack/lambdapack/internal/events"
)

func init() {
	register(func(s *Streams) *cobra.Command {
		var (
			o       events.Options
			timeStr string
		)
		var list strings.Builder
		for _, t := range events.Types() {
			fmt.Fprintf(&list, "  %-13s %s (also: %s)\n                flags: --%s\n", t.Name, t.Summary, strings.Join(t.Aliases, ", "), strings.Join(t.Flags, ", --"))
		}
		cmd := &cobra.Command{
			Use:   "event TYPE",
			Short: "Print a sample event of an AWS service, as Lambda receives it",
			Long: `Print a sample event, in the shape the AWS service sends it to a Lambda
function, for lambdapack invoke --event (or any other use). Flags set the usual
fields; the rest are AWS's documented sample values. The same flags and --time
give the same event.

Types:
` + list.String() + `
Every type also takes --region, --account and --time (RFC 3339, default now).`,
			Example: `  lambdapack event http-api --method POST --path /items --body '{"name":"x"}' | lambdapack invoke api --event -
  lambdapack event sqs --body '{"order": 1}' --count 3
  lambdapack event s3 --bucket uploads --key 'photos/cat 1.jpg'
  lambdapack event dynamodb --event-name MODIFY --keys '{"pk":"a"}' --new-image '{"pk":"a","n":2}'`,
			Args: cobra.ExactArgs(1),
			RunE: func(cmd *cobra.Command, args []string) error {
				typ, err := events.LookupType(args[0])
				if err != nil {
					return err
				}
				// A flag the type does not read is a mistake, not a no-op.
				allowed := append([]string{"region", "account", "time"}, typ.Flags...)
				var wrong []string
				cmd.Flags().Visit(func(f *pflag.Flag) {
					if !slices.Contains(allowed, f.Name) {
						wrong = append(wrong, "--"+f.Name)
					}
				})
				if len(wrong) > 0 {
					return fmt.Errorf("%s does not apply to a %s event (it takes --%s)", strings.Join(wrong, ", "), typ.Name, strings.Join(typ.Flags, ", --"))
				}
				if timeStr != "" {
					if o.Time, err = time.Parse(time.RFC3339, timeStr); err != nil {
						return fmt.Errorf("--time %q: write RFC 3339, e.g. 2026-03-12T19:03:58Z", timeStr)
					}
				}
				b, err := events.Generate(typ.Name, o)
				if err != nil {
					return err
				}
				_, err = s.Out.Write(b)
				return err
			},
		}
		fl := cmd.Flags()
		fl.StringVar(&o.Region, "region", "", "the AWS region in ARNs and domains (default us-east-1)")
		fl.StringVar(&o.Account, "account", "", "the AWS account id (default 123456789012)")
		fl.StringVar(&timeStr, "time", "", "the event's time, RFC 3339 (default now)")
		fl.StringVar(&o.Method, "method", "", "HTTP method (default GET)")
		fl.StringVar(&o.Path, "path", "", "request path (default /)")
		fl.StringVar(&o.Query, "query", "", "query string, a=1&b=2")
		fl.StringArrayVar(&o.Headers, "header", nil, "request header, 'Name: value' (repeatable)")
		fl.StringVar(&o.Body, "body", "", "request body (HTTP) or message body (SQS)")
		fl.StringArrayVar(&o.PathParams, "path-param", nil, "path parameter, name=value (repeatable)")
		fl.StringVar(&o.Stage, "stage", "", "API stage (default Prod for REST APIs, $default for HTTP APIs)")
		fl.StringVar(&o.Resource, "resource", "", "REST resource or HTTP API route path, /items/{id}")
		fl.StringVar(&o.Queue, "queue", "", "SQS queue name")
		fl.IntVar(&o.Count, "count", 1, "records in the batch (SQS, DynamoDB)")
		fl.StringArrayVar(&o.Attributes, "attribute", nil, "message attribute, name=value (repeatable)")
		fl.StringVar(&o.Message, "message", "", "SNS message")
		fl.StringVar(&o.Topic, "topic", "", "SNS topic name")
		fl.StringVar(&o.Subject, "subject", "", "SNS subject")
		fl.StringVar(&o.Bucket, "bucket", "", "S3 bucket")
		fl.StringVar(&o.Key, "key", "", "S3 object key")
		fl.StringVar(&o.EventName, "event-name", "", "S3 event (ObjectCreated:Put) or DynamoDB record (INSERT, MODIFY, REMOVE)")
		fl.Int64Var(&o.Size, "size", 0, "S3 object size in bytes")
		fl.StringVar(&o.ETag, "etag", "", "S3 object ETag")
		fl.StringVar(&o.Source, "source", "", "EventBridge source")
		fl.StringVar(&o.DetailType, "detail-type", "", "EventBridge detail-type")
		fl.StringVar(&o.Detail, "detail", "", "EventBridge detail, JSON")
		fl.StringArrayVar(&o.Resources, "resource-arn", nil, "EventBridge resources (repeatable)")
		fl.StringVar(&o.Rule, "rule", "", "scheduled rule name")
		fl.StringVar(&o.Table, "table", "", "DynamoDB table")
		fl.StringVar(&o.Keys, "keys", "", "DynamoDB keys, plain JSON ({\"pk\": \"a\"})")
		fl.StringVar(&o.NewImage, "new-image", "", "DynamoDB new image, plain JSON")
		fl.StringVar(&o.OldImage, "old-image", "", "DynamoDB old image, plain JSON")
		fl.StringVar(&o.ViewType, "view-type", "", "DynamoDB stream view type (default NEW_AND_OLD_IMAGES)")
		return cmd
	})
}
