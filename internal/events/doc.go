// Package events writes the events AWS services send to Lambda functions, in
// the shapes AWS documents: API Gateway REST APIs (payload format 1.0), HTTP
// APIs and function URLs (2.0), SQS, SNS, S3, EventBridge, scheduled rules
// and DynamoDB Streams. `lambdapack event TYPE` prints them, and `lambdapack
// serve` translates HTTP requests into the API events and the function's
// answers back into HTTP responses, as API Gateway and function URLs do.
//
// The package does no I/O: it turns values into events and answers into
// responses.
package events
