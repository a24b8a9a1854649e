from simulators.zoom.cli import main

raise SystemExit(main())
