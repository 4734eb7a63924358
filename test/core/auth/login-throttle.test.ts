// The in-process throttle (`npm start`: one process) runs the LoginThrottle contract.
import { MemoryLoginThrottle } from '../../../functions/core/auth/login-throttle.ts';
import { CONTRACT_LIMITS, loginThrottleContract } from '../../contract/login-throttle.contract.ts';

loginThrottleContract('in process', async () => {
  const throttle = new MemoryLoginThrottle(CONTRACT_LIMITS);
  return { a: throttle, b: throttle };
});
