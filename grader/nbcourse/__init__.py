"""The pack as an nbgrader course: build, kernel cells, the cell guard, imports."""
