// The administration rules (core/auth/admin.ts) throw AdminError for bad input and
// AlreadyExistsError for a create of something that exists: 400 and 409 here, their message as detail.
import { RegistryError } from '../errors.ts';
import { AdminError } from '../auth/admin.ts';
import { AlreadyExistsError } from '../auth/identity-store.ts';

export async function adminCall<T>(f: () => Promise<T>): Promise<T> {
  try {
    return await f();
  } catch (e) {
    if (e instanceof AdminError) throw new RegistryError('INVALID_REQUEST', { reason: e.message });
    if (e instanceof AlreadyExistsError) throw new RegistryError('CONFLICT', { reason: e.message || 'it exists already' });
    throw e;
  }
}
