"""The self-contained HTML report: view models (sections, figures, pages), SVG charts, template."""
