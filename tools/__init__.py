"""Scripts run by hand or by the tests: measurements (botbuilder_tests) and the image build."""
