/* uxlab snippet: placeholder until js_snippet is built */
