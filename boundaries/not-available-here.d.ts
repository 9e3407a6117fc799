// Stands in for modules a part must not import. The tsconfig.json of server/, webview/, shared/
// and extension/ map such modules here (`vscode` outside the extension, tfjs outside the
// server), so an import of one fails to type-check with "File '…/not-available-here.d.ts' is
// not a module". Without the mapping TypeScript would find node_modules/@types/vscode whatever
// a part's `types` setting says. This file declares nothing.
