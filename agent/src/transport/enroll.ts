import { ApiErrorBody, ENROLL_PATH, type EnrollRequest, EnrollResponse } from '@pulsewire/protocol';
import { AGENT_VERSION } from '../version.ts';
import { httpExchange } from './http.ts';

export class EnrollError extends Error {
  override name = 'EnrollError';
  readonly status?: number;
  readonly code: string;
  constructor(message: string, code: string, status?: number) {
    super(message);
    this.code = code;
    if (status !== undefined) this.status = status;
  }
}

/** `POST /api/v1/agents/enroll` with the ingest API key as bearer; the answer is checked against the contract. */
export async function enrollHost(baseUrl: string, apiKey: string, body: EnrollRequest): Promise<EnrollResponse> {
  const url = new URL(ENROLL_PATH, baseUrl);
  let status: number;
  let text: string;
  try {
    const response = await httpExchange(url, {
      method: 'POST',
      headers: {
        authorization: `Bearer ${apiKey}`,
        'content-type': 'application/json',
        'user-agent': `pulsewire-agent/${AGENT_VERSION}`,
      },
      body: JSON.stringify(body),
      timeoutMs: 30_000,
    });
    status = response.status;
    text = response.text;
  } catch (error) {
    throw new EnrollError(`Cannot reach ${url.origin}: ${(error as Error).message}`, 'network_error');
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    throw new EnrollError(`${url} answered ${status} with a body that is not JSON`, `http_${status}`, status);
  }
  if (status < 200 || status >= 300) {
    const parsed = ApiErrorBody.safeParse(json);
    const code = parsed.success ? parsed.data.error.code : `http_${status}`;
    const message = parsed.success ? parsed.data.error.message : `HTTP ${status}`;
    throw new EnrollError(`Enrollment refused (${status} ${code}): ${message}`, code, status);
  }
  const parsed = EnrollResponse.safeParse(json);
  if (!parsed.success) {
    throw new EnrollError(`${url} answered with an unexpected enrollment response`, 'invalid_response', status);
  }
  return parsed.data;
}
