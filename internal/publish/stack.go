package publish

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudformation"
	"github.com/aws/smithy-go"
)

// StackResources finds the physical IDs CloudFormation gave the resources
// of a deployed stack (DescribeStackResource): a SAM function without a
// FunctionName is named by CloudFormation at deploy time
// ("stack-LogicalId-RANDOM"). It returns them by logical ID; a stack or a
// resource that does not exist is an error that says so.
func StackResources(ctx context.Context, o AWSOptions, stack string, logicalIDs []string) (map[string]string, error) {
	c, err := newClients(ctx, o)
	if err != nil {
		return nil, err
	}
	cf := cloudformation.NewFromConfig(c.cfg)
	out := map[string]string{}
	for _, id := range logicalIDs {
		res, err := cf.DescribeStackResource(ctx, &cloudformation.DescribeStackResourceInput{StackName: aws.String(stack), LogicalResourceId: aws.String(id)})
		if err != nil {
			var ae smithy.APIError
			if errors.As(err, &ae) && ae.ErrorCode() == "ValidationError" {
				msg := ae.ErrorMessage()
				if strings.Contains(msg, "Stack") && strings.Contains(msg, "does not exist") {
					return nil, &awsError{msg: fmt.Sprintf("stack %s does not exist in region %s: deploy it first (sam deploy), or give the deployed stack's name with --stack-name (or stack_name in samconfig.toml) and its region with AWS_REGION [%s]", stack, c.cfg.Region, msg), err: err}
				}
				return nil, &awsError{msg: fmt.Sprintf("stack %s has no resource %s: deploy the template first (sam deploy), or check --stack-name [%s]", stack, id, msg), err: err}
			}
			return nil, c.callError(ctx, "cloudformation:DescribeStackResource", stack, err)
		}
		d := res.StackResourceDetail
		if d == nil || aws.ToString(d.PhysicalResourceId) == "" {
			return nil, fmt.Errorf("stack %s: resource %s has no physical ID yet: wait for the deployment to finish", stack, id)
		}
		out[id] = aws.ToString(d.PhysicalResourceId)
	}
	return out, nil
}
