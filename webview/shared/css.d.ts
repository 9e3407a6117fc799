/** esbuild's `.css` loader is `text`: a stylesheet imports as its source text. */
declare module '*.css' {
  const text: string;
  export default text;
}
