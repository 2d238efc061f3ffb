// The page's calls to its web server: JSON requests that resolve with the
// reply or reject with the server's one-line error, and uploads through
// XMLHttpRequest (which reports upload progress and can be aborted). Same
// origin only; the session cookie travels by itself.

export class ApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

async function errorOf(response: Response): Promise<ApiError> {
  try {
    const body = (await response.json()) as { error?: { message?: string } };
    return new ApiError(response.status, body.error?.message ?? response.statusText);
  } catch {
    return new ApiError(response.status, response.statusText);
  }
}

/** Dispatched on window when the server no longer knows our session. */
export const LOGGED_OUT = "albumshare-logged-out";

export async function api<T>(method: string, path: string, body?: unknown): Promise<T> {
  const response = await fetch(path, {
    method,
    headers: body === undefined ? {} : { "Content-Type": "application/json" },
    body: body === undefined ? null : JSON.stringify(body),
  });
  if (!response.ok) {
    // The login is gone (logged out elsewhere, or the web server restarted): back to the login page.
    if (response.status === 401 && path !== "/api/login")
      window.dispatchEvent(new Event(LOGGED_OUT));
    throw await errorOf(response);
  }
  return (await response.json()) as T;
}

export const albumPath = (album: string): string => `/api/albums/${encodeURIComponent(album)}`;

export interface UploadHandle {
  done: Promise<string>;
  abort(): void;
}

/** Sends a file's bytes to be staged; resolves with the upload id. */
export function uploadBytes(body: Blob, onProgress: (fraction: number) => void): UploadHandle {
  const xhr = new XMLHttpRequest();
  const done = new Promise<string>((resolve, reject) => {
    xhr.upload.onprogress = (event) => {
      if (event.lengthComputable) onProgress(event.loaded / event.total);
    };
    xhr.onload = () => {
      try {
        const reply = JSON.parse(xhr.responseText) as {
          upload?: string;
          error?: { message: string };
        };
        if (xhr.status === 200 && reply.upload) resolve(reply.upload);
        else reject(new ApiError(xhr.status, reply.error?.message ?? "upload failed"));
      } catch {
        reject(new ApiError(xhr.status, "upload failed"));
      }
    };
    xhr.onerror = () => reject(new ApiError(0, "upload failed: the web server is unreachable"));
    xhr.onabort = () => reject(new ApiError(0, "cancelled"));
    xhr.open("POST", "/api/uploads");
    xhr.setRequestHeader("Content-Type", "application/octet-stream");
    xhr.send(body);
  });
  return { done, abort: () => xhr.abort() };
}
