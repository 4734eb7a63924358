// DynamoDB Local for the tests: the same launcher `npm run start:aws` uses.
export { dynamoClient, startDynamoLocal, type DynamoLocal } from '../../dev/start-aws/dynamodb-local.ts';
