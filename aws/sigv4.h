/* sigv4.h: AWS Signature Version 4 (not implemented yet). */
#pragma once
