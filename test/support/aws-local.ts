// DynamoDB Local for the tests: the same launcher `npm run start:aws` uses.
export { dynamoClient, startDynamoLocal, type DynamoLocal } from '../../functions/aws-local/dynamodb-local.ts';
