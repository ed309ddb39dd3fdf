from vrft.cli import main

raise SystemExit(main())
