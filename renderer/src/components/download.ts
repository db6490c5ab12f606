/** Saves text as a file through the browser's download (the data is already in the page: no second request). */
export function download(name: string, text: string | Blob, type: string) {
  const url = URL.createObjectURL(typeof text === 'string' ? new Blob([text], { type }) : text);
  const a = document.createElement('a');
  a.href = url;
  a.download = name;
  a.click();
  setTimeout(() => URL.revokeObjectURL(url), 1000); // after the browser has started the download
}
