/**
 * Names and value representations of the standard DICOM attributes a reader looks at (PS3.6, not retired; groups
 * 0002 0008 0010 0012 0018 0020 0028 0032 0054 0088 2050 5200 7FE0). Generated from pydicom 2.3.1's data
 * dictionary (MIT), itself taken from the standard; other attributes show their tag and the file's VR.
 * One line per attribute: "GGGGEEEE VR Name".
 */
const TABLE = `
00020000 UL File Meta Information Group Length
00020001 OB File Meta Information Version
00020002 UI Media Storage SOP Class UID
00020003 UI Media Storage SOP Instance UID
00020010 UI Transfer Syntax UID
00020012 UI Implementation Class UID
00020013 SH Implementation Version Name
00020016 AE Source Application Entity Title
00020017 AE Sending Application Entity Title
00020018 AE Receiving Application Entity Title
00020026 UR Source Presentation Address
00020027 UR Sending Presentation Address
00020028 UR Receiving Presentation Address
00020031 OB RTV Meta Information Version
00020032 UI RTV Communication SOP Class UID
00020033 UI RTV Communication SOP Instance UID
00020035 OB RTV Source Identifier
00020036 OB RTV Flow Identifier
00020037 UL RTV Flow RTP Sampling Rate
00020038 FD RTV Flow Actual Frame Duration
00020100 UI Private Information Creator UID
00020102 OB Private Information
00080005 CS Specific Character Set
00080006 SQ Language Code Sequence
00080008 CS Image Type
00080012 DA Instance Creation Date
00080013 TM Instance Creation Time
00080014 UI Instance Creator UID
00080015 DT Instance Coercion DateTime
00080016 UI SOP Class UID
00080018 UI SOP Instance UID
0008001A UI Related General SOP Class UID
0008001B UI Original Specialized SOP Class UID
00080020 DA Study Date
00080021 DA Series Date
00080022 DA Acquisition Date
00080023 DA Content Date
0008002A DT Acquisition DateTime
00080030 TM Study Time
00080031 TM Series Time
00080032 TM Acquisition Time
00080033 TM Content Time
00080050 SH Accession Number
00080051 SQ Issuer of Accession Number Sequence
00080052 CS Query/Retrieve Level
00080053 CS Query/Retrieve View
00080054 AE Retrieve AE Title
00080055 AE Station AE Title
00080056 CS Instance Availability
00080058 UI Failed SOP Instance UID List
00080060 CS Modality
00080061 CS Modalities in Study
00080062 UI SOP Classes in Study
00080063 SQ Anatomic Regions in Study Code Sequence
00080064 CS Conversion Type
00080068 CS Presentation Intent Type
00080070 LO Manufacturer
00080080 LO Institution Name
00080081 ST Institution Address
00080082 SQ Institution Code Sequence
00080090 PN Referring Physician's Name
00080092 ST Referring Physician's Address
00080094 SH Referring Physician's Telephone Numbers
00080096 SQ Referring Physician Identification Sequence
0008009C PN Consulting Physician's Name
0008009D SQ Consulting Physician Identification Sequence
00080100 SH Code Value
00080101 LO Extended Code Value
00080102 SH Coding Scheme Designator
00080103 SH Coding Scheme Version
00080104 LO Code Meaning
00080105 CS Mapping Resource
00080106 DT Context Group Version
00080107 DT Context Group Local Version
00080108 LT Extended Code Meaning
00080109 SQ Coding Scheme Resources Sequence
0008010A CS Coding Scheme URL Type
0008010B CS Context Group Extension Flag
0008010C UI Coding Scheme UID
0008010D UI Context Group Extension Creator UID
0008010E UR Coding Scheme URL
0008010F CS Context Identifier
00080110 SQ Coding Scheme Identification Sequence
00080112 LO Coding Scheme Registry
00080114 ST Coding Scheme External ID
00080115 ST Coding Scheme Name
00080116 ST Coding Scheme Responsible Organization
00080117 UI Context UID
00080118 UI Mapping Resource UID
00080119 UC Long Code Value
00080120 UR URN Code Value
00080121 SQ Equivalent Code Sequence
00080122 LO Mapping Resource Name
00080123 SQ Context Group Identification Sequence
00080124 SQ Mapping Resource Identification Sequence
00080201 SH Timezone Offset From UTC
00080220 SQ Responsible Group Code Sequence
00080221 CS Equipment Modality
00080222 LO Manufacturer's Related Model Group
00080300 SQ Private Data Element Characteristics Sequence
00080301 US Private Group Reference
00080302 LO Private Creator Reference
00080303 CS Block Identifying Information Status
00080304 US Nonidentifying Private Elements
00080305 SQ Deidentification Action Sequence
00080306 US Identifying Private Elements
00080307 CS Deidentification Action
00080308 US Private Data Element
00080309 UL Private Data Element Value Multiplicity
0008030A CS Private Data Element Value Representation
0008030B UL Private Data Element Number of Items
0008030C UC Private Data Element Name
0008030D UC Private Data Element Keyword
0008030E UT Private Data Element Description
0008030F UT Private Data Element Encoding
00080310 SQ Private Data Element Definition Sequence
00081010 SH Station Name
00081030 LO Study Description
00081032 SQ Procedure Code Sequence
0008103E LO Series Description
0008103F SQ Series Description Code Sequence
00081040 LO Institutional Department Name
00081041 SQ Institutional Department Type Code Sequence
00081048 PN Physician(s) of Record
00081049 SQ Physician(s) of Record Identification Sequence
00081050 PN Performing Physician's Name
00081052 SQ Performing Physician Identification Sequence
00081060 PN Name of Physician(s) Reading Study
00081062 SQ Physician(s) Reading Study Identification Sequence
00081070 PN Operators' Name
00081072 SQ Operator Identification Sequence
00081080 LO Admitting Diagnoses Description
00081084 SQ Admitting Diagnoses Code Sequence
00081090 LO Manufacturer's Model Name
00081110 SQ Referenced Study Sequence
00081111 SQ Referenced Performed Procedure Step Sequence
00081115 SQ Referenced Series Sequence
00081120 SQ Referenced Patient Sequence
00081125 SQ Referenced Visit Sequence
00081134 SQ Referenced Stereometric Instance Sequence
0008113A SQ Referenced Waveform Sequence
00081140 SQ Referenced Image Sequence
0008114A SQ Referenced Instance Sequence
0008114B SQ Referenced Real World Value Mapping Instance Sequence
00081150 UI Referenced SOP Class UID
00081155 UI Referenced SOP Instance UID
00081156 SQ Definition Source Sequence
0008115A UI SOP Classes Supported
00081160 IS Referenced Frame Number
00081161 UL Simple Frame List
00081162 UL Calculated Frame List
00081163 FD Time Range
00081164 SQ Frame Extraction Sequence
00081167 UI Multi-frame Source SOP Instance UID
00081190 UR Retrieve URL
00081195 UI Transaction UID
00081196 US Warning Reason
00081197 US Failure Reason
00081198 SQ Failed SOP Sequence
00081199 SQ Referenced SOP Sequence
0008119A SQ Other Failures Sequence
00081200 SQ Studies Containing Other Referenced Instances Sequence
00081250 SQ Related Series Sequence
00082111 ST Derivation Description
00082112 SQ Source Image Sequence
00082120 SH Stage Name
00082122 IS Stage Number
00082124 IS Number of Stages
00082127 SH View Name
00082128 IS View Number
00082129 IS Number of Event Timers
0008212A IS Number of Views in Stage
00082130 DS Event Elapsed Time(s)
00082132 LO Event Timer Name(s)
00082133 SQ Event Timer Sequence
00082134 FD Event Time Offset
00082135 SQ Event Code Sequence
00082142 IS Start Trim
00082143 IS Stop Trim
00082144 IS Recommended Display Frame Rate
00082218 SQ Anatomic Region Sequence
00082220 SQ Anatomic Region Modifier Sequence
00082228 SQ Primary Anatomic Structure Sequence
00082230 SQ Primary Anatomic Structure Modifier Sequence
00083001 SQ Alternate Representation Sequence
00083002 UI Available Transfer Syntax UID
00083010 UI Irradiation Event UID
00083011 SQ Source Irradiation Event Sequence
00083012 UI Radiopharmaceutical Administration Event UID
00089007 CS Frame Type
00089092 SQ Referenced Image Evidence Sequence
00089121 SQ Referenced Raw Data Sequence
00089123 UI Creator-Version UID
00089124 SQ Derivation Image Sequence
00089154 SQ Source Image Evidence Sequence
00089205 CS Pixel Presentation
00089206 CS Volumetric Properties
00089207 CS Volume Based Calculation Technique
00089208 CS Complex Image Component
00089209 CS Acquisition Contrast
00089215 SQ Derivation Code Sequence
00089237 SQ Referenced Presentation State Sequence
00089410 SQ Referenced Other Plane Sequence
00089458 SQ Frame Display Sequence
00089459 FL Recommended Display Frame Rate in Float
00089460 CS Skip Frame Range Flag
00100010 PN Patient's Name
00100020 LO Patient ID
00100021 LO Issuer of Patient ID
00100022 CS Type of Patient ID
00100024 SQ Issuer of Patient ID Qualifiers Sequence
00100026 SQ Source Patient Group Identification Sequence
00100027 SQ Group of Patients Identification Sequence
00100028 US Subject Relative Position in Image
00100030 DA Patient's Birth Date
00100032 TM Patient's Birth Time
00100033 LO Patient's Birth Date in Alternative Calendar
00100034 LO Patient's Death Date in Alternative Calendar
00100035 CS Patient's Alternative Calendar
00100040 CS Patient's Sex
00100050 SQ Patient's Insurance Plan Code Sequence
00100101 SQ Patient's Primary Language Code Sequence
00100102 SQ Patient's Primary Language Modifier Code Sequence
00100200 CS Quality Control Subject
00100201 SQ Quality Control Subject Type Code Sequence
00100212 UC Strain Description
00100213 LO Strain Nomenclature
00100214 LO Strain Stock Number
00100215 SQ Strain Source Registry Code Sequence
00100216 SQ Strain Stock Sequence
00100217 LO Strain Source
00100218 UT Strain Additional Information
00100219 SQ Strain Code Sequence
00100221 SQ Genetic Modifications Sequence
00100222 UC Genetic Modifications Description
00100223 LO Genetic Modifications Nomenclature
00100229 SQ Genetic Modifications Code Sequence
00101001 PN Other Patient Names
00101002 SQ Other Patient IDs Sequence
00101005 PN Patient's Birth Name
00101010 AS Patient's Age
00101020 DS Patient's Size
00101021 SQ Patient's Size Code Sequence
00101022 DS Patient's Body Mass Index
00101023 DS Measured AP Dimension
00101024 DS Measured Lateral Dimension
00101030 DS Patient's Weight
00101040 LO Patient's Address
00101060 PN Patient's Mother's Birth Name
00101080 LO Military Rank
00101081 LO Branch of Service
00101100 SQ Referenced Patient Photo Sequence
00102000 LO Medical Alerts
00102110 LO Allergies
00102150 LO Country of Residence
00102152 LO Region of Residence
00102154 SH Patient's Telephone Numbers
00102155 LT Patient's Telecom Information
00102160 SH Ethnic Group
00102180 SH Occupation
001021A0 CS Smoking Status
001021B0 LT Additional Patient History
001021C0 US Pregnancy Status
001021D0 DA Last Menstrual Date
001021F0 LO Patient's Religious Preference
00102201 LO Patient Species Description
00102202 SQ Patient Species Code Sequence
00102203 CS Patient's Sex Neutered
00102210 CS Anatomical Orientation Type
00102292 LO Patient Breed Description
00102293 SQ Patient Breed Code Sequence
00102294 SQ Breed Registration Sequence
00102295 LO Breed Registration Number
00102296 SQ Breed Registry Code Sequence
00102297 PN Responsible Person
00102298 CS Responsible Person Role
00102299 LO Responsible Organization
00104000 LT Patient Comments
00109431 FL Examined Body Thickness
00120010 LO Clinical Trial Sponsor Name
00120020 LO Clinical Trial Protocol ID
00120021 LO Clinical Trial Protocol Name
00120030 LO Clinical Trial Site ID
00120031 LO Clinical Trial Site Name
00120040 LO Clinical Trial Subject ID
00120042 LO Clinical Trial Subject Reading ID
00120050 LO Clinical Trial Time Point ID
00120051 ST Clinical Trial Time Point Description
00120052 FD Longitudinal Temporal Offset from Event
00120053 CS Longitudinal Temporal Event Type
00120060 LO Clinical Trial Coordinating Center Name
00120062 CS Patient Identity Removed
00120063 LO De-identification Method
00120064 SQ De-identification Method Code Sequence
00120071 LO Clinical Trial Series ID
00120072 LO Clinical Trial Series Description
00120081 LO Clinical Trial Protocol Ethics Committee Name
00120082 LO Clinical Trial Protocol Ethics Committee Approval Number
00120083 SQ Consent for Clinical Trial Use Sequence
00120084 CS Distribution Type
00120085 CS Consent for Distribution Flag
00120086 DA Ethics Committee Approval Effectiveness Start Date
00120087 DA Ethics Committee Approval Effectiveness End Date
00180010 LO Contrast/Bolus Agent
00180012 SQ Contrast/Bolus Agent Sequence
00180013 FL Contrast/Bolus T1 Relaxivity
00180014 SQ Contrast/Bolus Administration Route Sequence
00180015 CS Body Part Examined
00180020 CS Scanning Sequence
00180021 CS Sequence Variant
00180022 CS Scan Options
00180023 CS MR Acquisition Type
00180024 SH Sequence Name
00180025 CS Angio Flag
00180026 SQ Intervention Drug Information Sequence
00180027 TM Intervention Drug Stop Time
00180028 DS Intervention Drug Dose
00180029 SQ Intervention Drug Code Sequence
0018002A SQ Additional Drug Sequence
00180031 LO Radiopharmaceutical
00180034 LO Intervention Drug Name
00180035 TM Intervention Drug Start Time
00180036 SQ Intervention Sequence
00180038 CS Intervention Status
0018003A ST Intervention Description
00180040 IS Cine Rate
00180042 CS Initial Cine Run State
00180050 DS Slice Thickness
00180060 DS KVP
00180070 IS Counts Accumulated
00180071 CS Acquisition Termination Condition
00180072 DS Effective Duration
00180073 CS Acquisition Start Condition
00180074 IS Acquisition Start Condition Data
00180075 IS Acquisition Termination Condition Data
00180080 DS Repetition Time
00180081 DS Echo Time
00180082 DS Inversion Time
00180083 DS Number of Averages
00180084 DS Imaging Frequency
00180085 SH Imaged Nucleus
00180086 IS Echo Number(s)
00180087 DS Magnetic Field Strength
00180088 DS Spacing Between Slices
00180089 IS Number of Phase Encoding Steps
00180090 DS Data Collection Diameter
00180091 IS Echo Train Length
00180093 DS Percent Sampling
00180094 DS Percent Phase Field of View
00180095 DS Pixel Bandwidth
00181000 LO Device Serial Number
00181002 UI Device UID
00181003 LO Device ID
00181004 LO Plate ID
00181005 LO Generator ID
00181006 LO Grid ID
00181007 LO Cassette ID
00181008 LO Gantry ID
00181009 UT Unique Device Identifier
0018100A SQ UDI Sequence
0018100B UI Manufacturer's Device Class UID
00181010 LO Secondary Capture Device ID
00181012 DA Date of Secondary Capture
00181014 TM Time of Secondary Capture
00181016 LO Secondary Capture Device Manufacturer
00181018 LO Secondary Capture Device Manufacturer's Model Name
00181019 LO Secondary Capture Device Software Versions
00181020 LO Software Versions
00181022 SH Video Image Format Acquired
00181023 LO Digital Image Format Acquired
00181030 LO Protocol Name
00181040 LO Contrast/Bolus Route
00181041 DS Contrast/Bolus Volume
00181042 TM Contrast/Bolus Start Time
00181043 TM Contrast/Bolus Stop Time
00181044 DS Contrast/Bolus Total Dose
00181045 IS Syringe Counts
00181046 DS Contrast Flow Rate
00181047 DS Contrast Flow Duration
00181048 CS Contrast/Bolus Ingredient
00181049 DS Contrast/Bolus Ingredient Concentration
00181050 DS Spatial Resolution
00181060 DS Trigger Time
00181061 LO Trigger Source or Type
00181062 IS Nominal Interval
00181063 DS Frame Time
00181064 LO Cardiac Framing Type
00181065 DS Frame Time Vector
00181066 DS Frame Delay
00181067 DS Image Trigger Delay
00181068 DS Multiplex Group Time Offset
00181069 DS Trigger Time Offset
0018106A CS Synchronization Trigger
0018106C US Synchronization Channel
0018106E UL Trigger Sample Position
00181070 LO Radiopharmaceutical Route
00181071 DS Radiopharmaceutical Volume
00181072 TM Radiopharmaceutical Start Time
00181073 TM Radiopharmaceutical Stop Time
00181074 DS Radionuclide Total Dose
00181075 DS Radionuclide Half Life
00181076 DS Radionuclide Positron Fraction
00181077 DS Radiopharmaceutical Specific Activity
00181078 DT Radiopharmaceutical Start DateTime
00181079 DT Radiopharmaceutical Stop DateTime
00181080 CS Beat Rejection Flag
00181081 IS Low R-R Value
00181082 IS High R-R Value
00181083 IS Intervals Acquired
00181084 IS Intervals Rejected
00181085 LO PVC Rejection
00181086 IS Skip Beats
00181088 IS Heart Rate
00181090 IS Cardiac Number of Images
00181094 IS Trigger Window
00181100 DS Reconstruction Diameter
00181110 DS Distance Source to Detector
00181111 DS Distance Source to Patient
00181114 DS Estimated Radiographic Magnification Factor
00181120 DS Gantry/Detector Tilt
00181121 DS Gantry/Detector Slew
00181130 DS Table Height
00181131 DS Table Traverse
00181134 CS Table Motion
00181135 DS Table Vertical Increment
00181136 DS Table Lateral Increment
00181137 DS Table Longitudinal Increment
00181138 DS Table Angle
0018113A CS Table Type
00181140 CS Rotation Direction
00181142 DS Radial Position
00181143 DS Scan Arc
00181144 DS Angular Step
00181145 DS Center of Rotation Offset
00181147 CS Field of View Shape
00181149 IS Field of View Dimension(s)
00181150 IS Exposure Time
00181151 IS X-Ray Tube Current
00181152 IS Exposure
00181153 IS Exposure in uAs
00181154 DS Average Pulse Width
00181155 CS Radiation Setting
00181156 CS Rectification Type
0018115A CS Radiation Mode
0018115E DS Image and Fluoroscopy Area Dose Product
00181160 SH Filter Type
00181161 LO Type of Filters
00181162 DS Intensifier Size
00181164 DS Imager Pixel Spacing
00181166 CS Grid
00181170 IS Generator Power
00181180 SH Collimator/grid Name
00181181 CS Collimator Type
00181182 IS Focal Distance
00181183 DS X Focus Center
00181184 DS Y Focus Center
00181190 DS Focal Spot(s)
00181191 CS Anode Target Material
001811A0 DS Body Part Thickness
001811A2 DS Compression Force
001811A3 DS Compression Pressure
001811A4 LO Paddle Description
001811A5 DS Compression Contact Area
001811B0 LO Acquisition Mode
001811B1 LO Dose Mode Name
001811B2 CS Acquired Subtraction Mask Flag
001811B3 CS Fluoroscopy Persistence Flag
001811B4 CS Fluoroscopy Last Image Hold Persistence Flag
001811B5 IS Upper Limit Number Of Persistent Fluoroscopy Frames
001811B6 CS Contrast/Bolus Auto Injection Trigger Flag
001811B7 FD Contrast/Bolus Injection Delay
001811B8 SQ XA Acquisition Phase Details Sequence
001811B9 FD XA Acquisition Frame Rate
001811BA SQ XA Plane Details Sequence
001811BB LO Acquisition Field of View Label
001811BC SQ X-Ray Filter Details Sequence
001811BD FD XA Acquisition Duration
001811BE CS Reconstruction Pipeline Type
001811BF SQ Image Filter Details Sequence
001811C0 CS Applied Mask Subtraction Flag
001811C1 SQ Requested Series Description Code Sequence
00181200 DA Date of Last Calibration
00181201 TM Time of Last Calibration
00181202 DT DateTime of Last Calibration
00181203 DT Calibration DateTime
00181210 SH Convolution Kernel
00181242 IS Actual Frame Duration
00181243 IS Count Rate
00181244 US Preferred Playback Sequencing
00181250 SH Receive Coil Name
00181251 SH Transmit Coil Name
00181260 SH Plate Type
00181261 LO Phosphor Type
00181271 FD Water Equivalent Diameter
00181272 SQ Water Equivalent Diameter Calculation Method Code Sequence
00181300 DS Scan Velocity
00181301 CS Whole Body Technique
00181302 IS Scan Length
00181310 US Acquisition Matrix
00181312 CS In-plane Phase Encoding Direction
00181314 DS Flip Angle
00181315 CS Variable Flip Angle Flag
00181316 DS SAR
00181318 DS dB/dt
00181320 FL B1rms
00181400 LO Acquisition Device Processing Description
00181401 LO Acquisition Device Processing Code
00181402 CS Cassette Orientation
00181403 CS Cassette Size
00181404 US Exposures on Plate
00181405 IS Relative X-Ray Exposure
00181411 DS Exposure Index
00181412 DS Target Exposure Index
00181413 DS Deviation Index
00181450 DS Column Angulation
00181460 DS Tomo Layer Height
00181470 DS Tomo Angle
00181480 DS Tomo Time
00181490 CS Tomo Type
00181491 CS Tomo Class
00181495 IS Number of Tomosynthesis Source Images
00181500 CS Positioner Motion
00181508 CS Positioner Type
00181510 DS Positioner Primary Angle
00181511 DS Positioner Secondary Angle
00181520 DS Positioner Primary Angle Increment
00181521 DS Positioner Secondary Angle Increment
00181530 DS Detector Primary Angle
00181531 DS Detector Secondary Angle
00181600 CS Shutter Shape
00181602 IS Shutter Left Vertical Edge
00181604 IS Shutter Right Vertical Edge
00181606 IS Shutter Upper Horizontal Edge
00181608 IS Shutter Lower Horizontal Edge
00181610 IS Center of Circular Shutter
00181612 IS Radius of Circular Shutter
00181620 IS Vertices of the Polygonal Shutter
00181622 US Shutter Presentation Value
00181623 US Shutter Overlay Group
00181624 US Shutter Presentation Color CIELab Value
00181630 CS Outline Shape Type
00181631 FD Outline Left Vertical Edge
00181632 FD Outline Right Vertical Edge
00181633 FD Outline Upper Horizontal Edge
00181634 FD Outline Lower Horizontal Edge
00181635 FD Center of Circular Outline
00181636 FD Diameter of Circular Outline
00181637 UL Number of Polygonal Vertices
00181638 OF Vertices of the Polygonal Outline
00181700 CS Collimator Shape
00181702 IS Collimator Left Vertical Edge
00181704 IS Collimator Right Vertical Edge
00181706 IS Collimator Upper Horizontal Edge
00181708 IS Collimator Lower Horizontal Edge
00181710 IS Center of Circular Collimator
00181712 IS Radius of Circular Collimator
00181720 IS Vertices of the Polygonal Collimator
00181800 CS Acquisition Time Synchronized
00181801 SH Time Source
00181802 CS Time Distribution Protocol
00181803 LO NTP Source Address
00182001 IS Page Number Vector
00182002 SH Frame Label Vector
00182003 DS Frame Primary Angle Vector
00182004 DS Frame Secondary Angle Vector
00182005 DS Slice Location Vector
00182006 SH Display Window Label Vector
00182010 DS Nominal Scanned Pixel Spacing
00182020 CS Digitizing Device Transport Direction
00182030 DS Rotation of Scanned Film
00182041 SQ Biopsy Target Sequence
00182042 UI Target UID
00182043 FL Localizing Cursor Position
00182044 FL Calculated Target Position
00182045 SH Target Label
00182046 FL Displayed Z Value
00183100 CS IVUS Acquisition
00183101 DS IVUS Pullback Rate
00183102 DS IVUS Gated Rate
00183103 IS IVUS Pullback Start Frame Number
00183104 IS IVUS Pullback Stop Frame Number
00183105 IS Lesion Number
00185000 SH Output Power
00185010 LO Transducer Data
00185011 SQ Transducer Identification Sequence
00185012 DS Focus Depth
00185020 LO Processing Function
00185022 DS Mechanical Index
00185024 DS Bone Thermal Index
00185026 DS Cranial Thermal Index
00185027 DS Soft Tissue Thermal Index
00185028 DS Soft Tissue-focus Thermal Index
00185029 DS Soft Tissue-surface Thermal Index
00185050 IS Depth of Scan Field
00185100 CS Patient Position
00185101 CS View Position
00185104 SQ Projection Eponymous Name Code Sequence
00186000 DS Sensitivity
00186011 SQ Sequence of Ultrasound Regions
00186012 US Region Spatial Format
00186014 US Region Data Type
00186016 UL Region Flags
00186018 UL Region Location Min X0
0018601A UL Region Location Min Y0
0018601C UL Region Location Max X1
0018601E UL Region Location Max Y1
00186020 SL Reference Pixel X0
00186022 SL Reference Pixel Y0
00186024 US Physical Units X Direction
00186026 US Physical Units Y Direction
00186028 FD Reference Pixel Physical Value X
0018602A FD Reference Pixel Physical Value Y
0018602C FD Physical Delta X
0018602E FD Physical Delta Y
00186030 UL Transducer Frequency
00186031 CS Transducer Type
00186032 UL Pulse Repetition Frequency
00186034 FD Doppler Correction Angle
00186036 FD Steering Angle
00186039 SL Doppler Sample Volume X Position
0018603B SL Doppler Sample Volume Y Position
0018603D SL TM-Line Position X0
0018603F SL TM-Line Position Y0
00186041 SL TM-Line Position X1
00186043 SL TM-Line Position Y1
00186044 US Pixel Component Organization
00186046 UL Pixel Component Mask
00186048 UL Pixel Component Range Start
0018604A UL Pixel Component Range Stop
0018604C US Pixel Component Physical Units
0018604E US Pixel Component Data Type
00186050 UL Number of Table Break Points
00186052 UL Table of X Break Points
00186054 FD Table of Y Break Points
00186056 UL Number of Table Entries
00186058 UL Table of Pixel Values
0018605A FL Table of Parameter Values
00186060 FL R Wave Time Vector
00186070 US Active Image Area Overlay Group
00187000 CS Detector Conditions Nominal Flag
00187001 DS Detector Temperature
00187004 CS Detector Type
00187005 CS Detector Configuration
00187006 LT Detector Description
00187008 LT Detector Mode
0018700A SH Detector ID
0018700C DA Date of Last Detector Calibration
0018700E TM Time of Last Detector Calibration
00187010 IS Exposures on Detector Since Last Calibration
00187011 IS Exposures on Detector Since Manufactured
00187012 DS Detector Time Since Last Exposure
00187014 DS Detector Active Time
00187016 DS Detector Activation Offset From Exposure
0018701A DS Detector Binning
00187020 DS Detector Element Physical Size
00187022 DS Detector Element Spacing
00187024 CS Detector Active Shape
00187026 DS Detector Active Dimension(s)
00187028 DS Detector Active Origin
0018702A LO Detector Manufacturer Name
0018702B LO Detector Manufacturer's Model Name
00187030 DS Field of View Origin
00187032 DS Field of View Rotation
00187034 CS Field of View Horizontal Flip
00187036 FL Pixel Data Area Origin Relative To FOV
00187038 FL Pixel Data Area Rotation Angle Relative To FOV
00187040 LT Grid Absorbing Material
00187041 LT Grid Spacing Material
00187042 DS Grid Thickness
00187044 DS Grid Pitch
00187046 IS Grid Aspect Ratio
00187048 DS Grid Period
0018704C DS Grid Focal Distance
00187050 CS Filter Material
00187052 DS Filter Thickness Minimum
00187054 DS Filter Thickness Maximum
00187056 FL Filter Beam Path Length Minimum
00187058 FL Filter Beam Path Length Maximum
00187060 CS Exposure Control Mode
00187062 LT Exposure Control Mode Description
00187064 CS Exposure Status
00187065 DS Phototimer Setting
00188150 DS Exposure Time in uS
00188151 DS X-Ray Tube Current in uA
00189004 CS Content Qualification
00189005 SH Pulse Sequence Name
00189006 SQ MR Imaging Modifier Sequence
00189008 CS Echo Pulse Sequence
00189009 CS Inversion Recovery
00189010 CS Flow Compensation
00189011 CS Multiple Spin Echo
00189012 CS Multi-planar Excitation
00189014 CS Phase Contrast
00189015 CS Time of Flight Contrast
00189016 CS Spoiling
00189017 CS Steady State Pulse Sequence
00189018 CS Echo Planar Pulse Sequence
00189019 FD Tag Angle First Axis
00189020 CS Magnetization Transfer
00189021 CS T2 Preparation
00189022 CS Blood Signal Nulling
00189024 CS Saturation Recovery
00189025 CS Spectrally Selected Suppression
00189026 CS Spectrally Selected Excitation
00189027 CS Spatial Pre-saturation
00189028 CS Tagging
00189029 CS Oversampling Phase
00189030 FD Tag Spacing First Dimension
00189032 CS Geometry of k-Space Traversal
00189033 CS Segmented k-Space Traversal
00189034 CS Rectilinear Phase Encode Reordering
00189035 FD Tag Thickness
00189036 CS Partial Fourier Direction
00189037 CS Cardiac Synchronization Technique
00189041 LO Receive Coil Manufacturer Name
00189042 SQ MR Receive Coil Sequence
00189043 CS Receive Coil Type
00189044 CS Quadrature Receive Coil
00189045 SQ Multi-Coil Definition Sequence
00189046 LO Multi-Coil Configuration
00189047 SH Multi-Coil Element Name
00189048 CS Multi-Coil Element Used
00189049 SQ MR Transmit Coil Sequence
00189050 LO Transmit Coil Manufacturer Name
00189051 CS Transmit Coil Type
00189052 FD Spectral Width
00189053 FD Chemical Shift Reference
00189054 CS Volume Localization Technique
00189058 US MR Acquisition Frequency Encoding Steps
00189059 CS De-coupling
00189060 CS De-coupled Nucleus
00189061 FD De-coupling Frequency
00189062 CS De-coupling Method
00189063 FD De-coupling Chemical Shift Reference
00189064 CS k-space Filtering
00189065 CS Time Domain Filtering
00189066 US Number of Zero Fills
00189067 CS Baseline Correction
00189069 FD Parallel Reduction Factor In-plane
00189070 FD Cardiac R-R Interval Specified
00189073 FD Acquisition Duration
00189074 DT Frame Acquisition DateTime
00189075 CS Diffusion Directionality
00189076 SQ Diffusion Gradient Direction Sequence
00189077 CS Parallel Acquisition
00189078 CS Parallel Acquisition Technique
00189079 FD Inversion Times
00189080 ST Metabolite Map Description
00189081 CS Partial Fourier
00189082 FD Effective Echo Time
00189083 SQ Metabolite Map Code Sequence
00189084 SQ Chemical Shift Sequence
00189085 CS Cardiac Signal Source
00189087 FD Diffusion b-value
00189089 FD Diffusion Gradient Orientation
00189090 FD Velocity Encoding Direction
00189091 FD Velocity Encoding Minimum Value
00189092 SQ Velocity Encoding Acquisition Sequence
00189093 US Number of k-Space Trajectories
00189094 CS Coverage of k-Space
00189095 UL Spectroscopy Acquisition Phase Rows
00189098 FD Transmitter Frequency
00189100 CS Resonant Nucleus
00189101 CS Frequency Correction
00189103 SQ MR Spectroscopy FOV/Geometry Sequence
00189104 FD Slab Thickness
00189105 FD Slab Orientation
00189106 FD Mid Slab Position
00189107 SQ MR Spatial Saturation Sequence
00189112 SQ MR Timing and Related Parameters Sequence
00189114 SQ MR Echo Sequence
00189115 SQ MR Modifier Sequence
00189117 SQ MR Diffusion Sequence
00189118 SQ Cardiac Synchronization Sequence
00189119 SQ MR Averages Sequence
00189125 SQ MR FOV/Geometry Sequence
00189126 SQ Volume Localization Sequence
00189127 UL Spectroscopy Acquisition Data Columns
00189147 CS Diffusion Anisotropy Type
00189151 DT Frame Reference DateTime
00189152 SQ MR Metabolite Map Sequence
00189155 FD Parallel Reduction Factor out-of-plane
00189159 UL Spectroscopy Acquisition Out-of-plane Phase Steps
00189168 FD Parallel Reduction Factor Second In-plane
00189169 CS Cardiac Beat Rejection Technique
00189170 CS Respiratory Motion Compensation Technique
00189171 CS Respiratory Signal Source
00189172 CS Bulk Motion Compensation Technique
00189173 CS Bulk Motion Signal Source
00189174 CS Applicable Safety Standard Agency
00189175 LO Applicable Safety Standard Description
00189176 SQ Operating Mode Sequence
00189177 CS Operating Mode Type
00189178 CS Operating Mode
00189179 CS Specific Absorption Rate Definition
00189180 CS Gradient Output Type
00189181 FD Specific Absorption Rate Value
00189182 FD Gradient Output
00189183 CS Flow Compensation Direction
00189184 FD Tagging Delay
00189185 ST Respiratory Motion Compensation Technique Description
00189186 SH Respiratory Signal Source ID
00189197 SQ MR Velocity Encoding Sequence
00189198 CS First Order Phase Correction
00189199 CS Water Referenced Phase Correction
00189200 CS MR Spectroscopy Acquisition Type
00189214 CS Respiratory Cycle Position
00189217 FD Velocity Encoding Maximum Value
00189218 FD Tag Spacing Second Dimension
00189219 SS Tag Angle Second Axis
00189220 FD Frame Acquisition Duration
00189226 SQ MR Image Frame Type Sequence
00189227 SQ MR Spectroscopy Frame Type Sequence
00189231 US MR Acquisition Phase Encoding Steps in-plane
00189232 US MR Acquisition Phase Encoding Steps out-of-plane
00189234 UL Spectroscopy Acquisition Phase Columns
00189236 CS Cardiac Cycle Position
00189239 SQ Specific Absorption Rate Sequence
00189240 US RF Echo Train Length
00189241 US Gradient Echo Train Length
00189250 CS Arterial Spin Labeling Contrast
00189251 SQ MR Arterial Spin Labeling Sequence
00189252 LO ASL Technique Description
00189253 US ASL Slab Number
00189254 FD ASL Slab Thickness
00189255 FD ASL Slab Orientation
00189256 FD ASL Mid Slab Position
00189257 CS ASL Context
00189258 UL ASL Pulse Train Duration
00189259 CS ASL Crusher Flag
0018925A FD ASL Crusher Flow Limit
0018925B LO ASL Crusher Description
0018925C CS ASL Bolus Cut-off Flag
0018925D SQ ASL Bolus Cut-off Timing Sequence
0018925E LO ASL Bolus Cut-off Technique
0018925F UL ASL Bolus Cut-off Delay Time
00189260 SQ ASL Slab Sequence
00189295 FD Chemical Shift Minimum Integration Limit in ppm
00189296 FD Chemical Shift Maximum Integration Limit in ppm
00189297 CS Water Reference Acquisition
00189298 IS Echo Peak Position
00189301 SQ CT Acquisition Type Sequence
00189302 CS Acquisition Type
00189303 FD Tube Angle
00189304 SQ CT Acquisition Details Sequence
00189305 FD Revolution Time
00189306 FD Single Collimation Width
00189307 FD Total Collimation Width
00189308 SQ CT Table Dynamics Sequence
00189309 FD Table Speed
00189310 FD Table Feed per Rotation
00189311 FD Spiral Pitch Factor
00189312 SQ CT Geometry Sequence
00189313 FD Data Collection Center (Patient)
00189314 SQ CT Reconstruction Sequence
00189315 CS Reconstruction Algorithm
00189316 CS Convolution Kernel Group
00189317 FD Reconstruction Field of View
00189318 FD Reconstruction Target Center (Patient)
00189319 FD Reconstruction Angle
00189320 SH Image Filter
00189321 SQ CT Exposure Sequence
00189322 FD Reconstruction Pixel Spacing
00189323 CS Exposure Modulation Type
00189325 SQ CT X-Ray Details Sequence
00189326 SQ CT Position Sequence
00189327 FD Table Position
00189328 FD Exposure Time in ms
00189329 SQ CT Image Frame Type Sequence
00189330 FD X-Ray Tube Current in mA
00189332 FD Exposure in mAs
00189333 CS Constant Volume Flag
00189334 CS Fluoroscopy Flag
00189335 FD Distance Source to Data Collection Center
00189337 US Contrast/Bolus Agent Number
00189338 SQ Contrast/Bolus Ingredient Code Sequence
00189340 SQ Contrast Administration Profile Sequence
00189341 SQ Contrast/Bolus Usage Sequence
00189342 CS Contrast/Bolus Agent Administered
00189343 CS Contrast/Bolus Agent Detected
00189344 CS Contrast/Bolus Agent Phase
00189345 FD CTDIvol
00189346 SQ CTDI Phantom Type Code Sequence
00189351 FL Calcium Scoring Mass Factor Patient
00189352 FL Calcium Scoring Mass Factor Device
00189353 FL Energy Weighting Factor
00189360 SQ CT Additional X-Ray Source Sequence
00189361 CS Multi-energy CT Acquisition
00189362 SQ Multi-energy CT Acquisition Sequence
00189363 SQ Multi-energy CT Processing Sequence
00189364 SQ Multi-energy CT Characteristics Sequence
00189365 SQ Multi-energy CT X-Ray Source Sequence
00189366 US X-Ray Source Index
00189367 UC X-Ray Source ID
00189368 CS Multi-energy Source Technique
00189369 DT Source Start DateTime
0018936A DT Source End DateTime
0018936B US Switching Phase Number
0018936C DS Switching Phase Nominal Duration
0018936D DS Switching Phase Transition Duration
0018936E DS Effective Bin Energy
0018936F SQ Multi-energy CT X-Ray Detector Sequence
00189370 US X-Ray Detector Index
00189371 UC X-Ray Detector ID
00189372 CS Multi-energy Detector Type
00189373 ST X-Ray Detector Label
00189374 DS Nominal Max Energy
00189375 DS Nominal Min Energy
00189376 US Referenced X-Ray Detector Index
00189377 US Referenced X-Ray Source Index
00189378 US Referenced Path Index
00189379 SQ Multi-energy CT Path Sequence
0018937A US Multi-energy CT Path Index
0018937B UT Multi-energy Acquisition Description
0018937C FD Monoenergetic Energy Equivalent
0018937D SQ Material Code Sequence
0018937E CS Decomposition Method
0018937F UT Decomposition Description
00189380 SQ Decomposition Algorithm Identification Sequence
00189381 SQ Decomposition Material Sequence
00189382 SQ Material Attenuation Sequence
00189383 DS Photon Energy
00189384 DS X-Ray Mass Attenuation Coefficient
00189401 SQ Projection Pixel Calibration Sequence
00189402 FL Distance Source to Isocenter
00189403 FL Distance Object to Table Top
00189404 FL Object Pixel Spacing in Center of Beam
00189405 SQ Positioner Position Sequence
00189406 SQ Table Position Sequence
00189407 SQ Collimator Shape Sequence
00189410 CS Planes in Acquisition
00189412 SQ XA/XRF Frame Characteristics Sequence
00189417 SQ Frame Acquisition Sequence
00189420 CS X-Ray Receptor Type
00189423 LO Acquisition Protocol Name
00189424 LT Acquisition Protocol Description
00189425 CS Contrast/Bolus Ingredient Opaque
00189426 FL Distance Receptor Plane to Detector Housing
00189427 CS Intensifier Active Shape
00189428 FL Intensifier Active Dimension(s)
00189429 FL Physical Detector Size
00189430 FL Position of Isocenter Projection
00189432 SQ Field of View Sequence
00189433 LO Field of View Description
00189434 SQ Exposure Control Sensing Regions Sequence
00189435 CS Exposure Control Sensing Region Shape
00189436 SS Exposure Control Sensing Region Left Vertical Edge
00189437 SS Exposure Control Sensing Region Right Vertical Edge
00189438 SS Exposure Control Sensing Region Upper Horizontal Edge
00189439 SS Exposure Control Sensing Region Lower Horizontal Edge
00189440 SS Center of Circular Exposure Control Sensing Region
00189441 US Radius of Circular Exposure Control Sensing Region
00189442 SS Vertices of the Polygonal Exposure Control Sensing Region
00189447 FL Column Angulation (Patient)
00189449 FL Beam Angle
00189451 SQ Frame Detector Parameters Sequence
00189452 FL Calculated Anatomy Thickness
00189455 SQ Calibration Sequence
00189456 SQ Object Thickness Sequence
00189457 CS Plane Identification
00189461 FL Field of View Dimension(s) in Float
00189462 SQ Isocenter Reference System Sequence
00189463 FL Positioner Isocenter Primary Angle
00189464 FL Positioner Isocenter Secondary Angle
00189465 FL Positioner Isocenter Detector Rotation Angle
00189466 FL Table X Position to Isocenter
00189467 FL Table Y Position to Isocenter
00189468 FL Table Z Position to Isocenter
00189469 FL Table Horizontal Rotation Angle
00189470 FL Table Head Tilt Angle
00189471 FL Table Cradle Tilt Angle
00189472 SQ Frame Display Shutter Sequence
00189473 FL Acquired Image Area Dose Product
00189474 CS C-arm Positioner Tabletop Relationship
00189476 SQ X-Ray Geometry Sequence
00189477 SQ Irradiation Event Identification Sequence
00189504 SQ X-Ray 3D Frame Type Sequence
00189506 SQ Contributing Sources Sequence
00189507 SQ X-Ray 3D Acquisition Sequence
00189508 FL Primary Positioner Scan Arc
00189509 FL Secondary Positioner Scan Arc
00189510 FL Primary Positioner Scan Start Angle
00189511 FL Secondary Positioner Scan Start Angle
00189514 FL Primary Positioner Increment
00189515 FL Secondary Positioner Increment
00189516 DT Start Acquisition DateTime
00189517 DT End Acquisition DateTime
00189518 SS Primary Positioner Increment Sign
00189519 SS Secondary Positioner Increment Sign
00189524 LO Application Name
00189525 LO Application Version
00189526 LO Application Manufacturer
00189527 CS Algorithm Type
00189528 LO Algorithm Description
00189530 SQ X-Ray 3D Reconstruction Sequence
00189531 LO Reconstruction Description
00189538 SQ Per Projection Acquisition Sequence
00189541 SQ Detector Position Sequence
00189542 SQ X-Ray Acquisition Dose Sequence
00189543 FD X-Ray Source Isocenter Primary Angle
00189544 FD X-Ray Source Isocenter Secondary Angle
00189545 FD Breast Support Isocenter Primary Angle
00189546 FD Breast Support Isocenter Secondary Angle
00189547 FD Breast Support X Position to Isocenter
00189548 FD Breast Support Y Position to Isocenter
00189549 FD Breast Support Z Position to Isocenter
00189550 FD Detector Isocenter Primary Angle
00189551 FD Detector Isocenter Secondary Angle
00189552 FD Detector X Position to Isocenter
00189553 FD Detector Y Position to Isocenter
00189554 FD Detector Z Position to Isocenter
00189555 SQ X-Ray Grid Sequence
00189556 SQ X-Ray Filter Sequence
00189557 FD Detector Active Area TLHC Position
00189558 FD Detector Active Area Orientation
00189559 CS Positioner Primary Angle Direction
00189601 SQ Diffusion b-matrix Sequence
00189602 FD Diffusion b-value XX
00189603 FD Diffusion b-value XY
00189604 FD Diffusion b-value XZ
00189605 FD Diffusion b-value YY
00189606 FD Diffusion b-value YZ
00189607 FD Diffusion b-value ZZ
00189621 SQ Functional MR Sequence
00189622 CS Functional Settling Phase Frames Present
00189623 DT Functional Sync Pulse
00189624 CS Settling Phase Frame
00189701 DT Decay Correction DateTime
00189715 FD Start Density Threshold
00189716 FD Start Relative Density Difference Threshold
00189717 FD Start Cardiac Trigger Count Threshold
00189718 FD Start Respiratory Trigger Count Threshold
00189719 FD Termination Counts Threshold
00189720 FD Termination Density Threshold
00189721 FD Termination Relative Density Threshold
00189722 FD Termination Time Threshold
00189723 FD Termination Cardiac Trigger Count Threshold
00189724 FD Termination Respiratory Trigger Count Threshold
00189725 CS Detector Geometry
00189726 FD Transverse Detector Separation
00189727 FD Axial Detector Dimension
00189729 US Radiopharmaceutical Agent Number
00189732 SQ PET Frame Acquisition Sequence
00189733 SQ PET Detector Motion Details Sequence
00189734 SQ PET Table Dynamics Sequence
00189735 SQ PET Position Sequence
00189736 SQ PET Frame Correction Factors Sequence
00189737 SQ Radiopharmaceutical Usage Sequence
00189738 CS Attenuation Correction Source
00189739 US Number of Iterations
00189740 US Number of Subsets
00189749 SQ PET Reconstruction Sequence
00189751 SQ PET Frame Type Sequence
00189755 CS Time of Flight Information Used
00189756 CS Reconstruction Type
00189758 CS Decay Corrected
00189759 CS Attenuation Corrected
00189760 CS Scatter Corrected
00189761 CS Dead Time Corrected
00189762 CS Gantry Motion Corrected
00189763 CS Patient Motion Corrected
00189764 CS Count Loss Normalization Corrected
00189765 CS Randoms Corrected
00189766 CS Non-uniform Radial Sampling Corrected
00189767 CS Sensitivity Calibrated
00189768 CS Detector Normalization Correction
00189769 CS Iterative Reconstruction Method
00189770 CS Attenuation Correction Temporal Relationship
00189771 SQ Patient Physiological State Sequence
00189772 SQ Patient Physiological State Code Sequence
00189801 FD Depth(s) of Focus
00189803 SQ Excluded Intervals Sequence
00189804 DT Exclusion Start DateTime
00189805 FD Exclusion Duration
00189806 SQ US Image Description Sequence
00189807 SQ Image Data Type Sequence
00189808 CS Data Type
00189809 SQ Transducer Scan Pattern Code Sequence
0018980B CS Aliased Data Type
0018980C CS Position Measuring Device Used
0018980D SQ Transducer Geometry Code Sequence
0018980E SQ Transducer Beam Steering Code Sequence
0018980F SQ Transducer Application Code Sequence
00189810 US Zero Velocity Pixel Value
00189900 LO Reference Location Label
00189901 UT Reference Location Description
00189902 SQ Reference Basis Code Sequence
00189903 SQ Reference Geometry Code Sequence
00189904 DS Offset Distance
00189905 CS Offset Direction
00189906 SQ Potential Scheduled Protocol Code Sequence
00189907 SQ Potential Requested Procedure Code Sequence
00189908 UC Potential Reasons for Procedure
00189909 SQ Potential Reasons for Procedure Code Sequence
0018990A UC Potential Diagnostic Tasks
0018990B SQ Contraindications Code Sequence
0018990C SQ Referenced Defined Protocol Sequence
0018990D SQ Referenced Performed Protocol Sequence
0018990E SQ Predecessor Protocol Sequence
0018990F UT Protocol Planning Information
00189910 UT Protocol Design Rationale
00189911 SQ Patient Specification Sequence
00189912 SQ Model Specification Sequence
00189913 SQ Parameters Specification Sequence
00189914 SQ Instruction Sequence
00189915 US Instruction Index
00189916 LO Instruction Text
00189917 UT Instruction Description
00189918 CS Instruction Performed Flag
00189919 DT Instruction Performed DateTime
0018991A UT Instruction Performance Comment
0018991B SQ Patient Positioning Instruction Sequence
0018991C SQ Positioning Method Code Sequence
0018991D SQ Positioning Landmark Sequence
0018991E UI Target Frame of Reference UID
0018991F SQ Acquisition Protocol Element Specification Sequence
00189920 SQ Acquisition Protocol Element Sequence
00189921 US Protocol Element Number
00189922 LO Protocol Element Name
00189923 UT Protocol Element Characteristics Summary
00189924 UT Protocol Element Purpose
00189930 CS Acquisition Motion
00189931 SQ Acquisition Start Location Sequence
00189932 SQ Acquisition End Location Sequence
00189933 SQ Reconstruction Protocol Element Specification Sequence
00189934 SQ Reconstruction Protocol Element Sequence
00189935 SQ Storage Protocol Element Specification Sequence
00189936 SQ Storage Protocol Element Sequence
00189937 LO Requested Series Description
00189938 US Source Acquisition Protocol Element Number
00189939 US Source Acquisition Beam Number
0018993A US Source Reconstruction Protocol Element Number
0018993B SQ Reconstruction Start Location Sequence
0018993C SQ Reconstruction End Location Sequence
0018993D SQ Reconstruction Algorithm Sequence
0018993E SQ Reconstruction Target Center Location Sequence
00189941 UT Image Filter Description
00189942 FD CTDIvol Notification Trigger
00189943 FD DLP Notification Trigger
00189944 CS Auto KVP Selection Type
00189945 FD Auto KVP Upper Bound
00189946 FD Auto KVP Lower Bound
00189947 CS Protocol Defined Patient Position
0018A001 SQ Contributing Equipment Sequence
0018A002 DT Contribution DateTime
0018A003 ST Contribution Description
0020000D UI Study Instance UID
0020000E UI Series Instance UID
00200010 SH Study ID
00200011 IS Series Number
00200012 IS Acquisition Number
00200013 IS Instance Number
00200019 IS Item Number
00200020 CS Patient Orientation
00200032 DS Image Position (Patient)
00200037 DS Image Orientation (Patient)
00200052 UI Frame of Reference UID
00200060 CS Laterality
00200062 CS Image Laterality
00200100 IS Temporal Position Identifier
00200105 IS Number of Temporal Positions
00200110 DS Temporal Resolution
00200200 UI Synchronization Frame of Reference UID
00200242 UI SOP Instance UID of Concatenation Source
00201002 IS Images in Acquisition
0020103F LO Target Position Reference Indicator
00201040 LO Position Reference Indicator
00201041 DS Slice Location
00201200 IS Number of Patient Related Studies
00201202 IS Number of Patient Related Series
00201204 IS Number of Patient Related Instances
00201206 IS Number of Study Related Series
00201208 IS Number of Study Related Instances
00201209 IS Number of Series Related Instances
00204000 LT Image Comments
00209056 SH Stack ID
00209057 UL In-Stack Position Number
00209071 SQ Frame Anatomy Sequence
00209072 CS Frame Laterality
00209111 SQ Frame Content Sequence
00209113 SQ Plane Position Sequence
00209116 SQ Plane Orientation Sequence
00209128 UL Temporal Position Index
00209153 FD Nominal Cardiac Trigger Delay Time
00209154 FL Nominal Cardiac Trigger Time Prior To R-Peak
00209155 FL Actual Cardiac Trigger Time Prior To R-Peak
00209156 US Frame Acquisition Number
00209157 UL Dimension Index Values
00209158 LT Frame Comments
00209161 UI Concatenation UID
00209162 US In-concatenation Number
00209163 US In-concatenation Total Number
00209164 UI Dimension Organization UID
00209165 AT Dimension Index Pointer
00209167 AT Functional Group Pointer
00209170 SQ Unassigned Shared Converted Attributes Sequence
00209171 SQ Unassigned Per-Frame Converted Attributes Sequence
00209172 SQ Conversion Source Attributes Sequence
00209213 LO Dimension Index Private Creator
00209221 SQ Dimension Organization Sequence
00209222 SQ Dimension Index Sequence
00209228 UL Concatenation Frame Offset Number
00209238 LO Functional Group Private Creator
00209241 FL Nominal Percentage of Cardiac Phase
00209245 FL Nominal Percentage of Respiratory Phase
00209246 FL Starting Respiratory Amplitude
00209247 CS Starting Respiratory Phase
00209248 FL Ending Respiratory Amplitude
00209249 CS Ending Respiratory Phase
00209250 CS Respiratory Trigger Type
00209251 FD R-R Interval Time Nominal
00209252 FD Actual Cardiac Trigger Delay Time
00209253 SQ Respiratory Synchronization Sequence
00209254 FD Respiratory Interval Time
00209255 FD Nominal Respiratory Trigger Delay Time
00209256 FD Respiratory Trigger Delay Threshold
00209257 FD Actual Respiratory Trigger Delay Time
00209301 FD Image Position (Volume)
00209302 FD Image Orientation (Volume)
00209307 CS Ultrasound Acquisition Geometry
00209308 FD Apex Position
00209309 FD Volume to Transducer Mapping Matrix
0020930A FD Volume to Table Mapping Matrix
0020930B CS Volume to Transducer Relationship
0020930C CS Patient Frame of Reference Source
0020930D FD Temporal Position Time Offset
0020930E SQ Plane Position (Volume) Sequence
0020930F SQ Plane Orientation (Volume) Sequence
00209310 SQ Temporal Position Sequence
00209311 CS Dimension Organization Type
00209312 UI Volume Frame of Reference UID
00209313 UI Table Frame of Reference UID
00209421 LO Dimension Description Label
00209450 SQ Patient Orientation in Frame Sequence
00209453 LO Frame Label
00209518 US Acquisition Index
00209529 SQ Contributing SOP Instances Reference Sequence
00209536 US Reconstruction Index
00280002 US Samples per Pixel
00280003 US Samples per Pixel Used
00280004 CS Photometric Interpretation
00280006 US Planar Configuration
00280008 IS Number of Frames
00280009 AT Frame Increment Pointer
0028000A AT Frame Dimension Pointer
00280010 US Rows
00280011 US Columns
00280014 US Ultrasound Color Data Present
00280030 DS Pixel Spacing
00280031 DS Zoom Factor
00280032 DS Zoom Center
00280034 IS Pixel Aspect Ratio
00280051 CS Corrected Image
00280100 US Bits Allocated
00280101 US Bits Stored
00280102 US High Bit
00280103 US Pixel Representation
00280106 US Smallest Image Pixel Value
00280107 US Largest Image Pixel Value
00280108 US Smallest Pixel Value in Series
00280109 US Largest Pixel Value in Series
00280120 US Pixel Padding Value
00280121 US Pixel Padding Range Limit
00280122 FL Float Pixel Padding Value
00280123 FD Double Float Pixel Padding Value
00280124 FL Float Pixel Padding Range Limit
00280125 FD Double Float Pixel Padding Range Limit
00280300 CS Quality Control Image
00280301 CS Burned In Annotation
00280302 CS Recognizable Visual Features
00280303 CS Longitudinal Temporal Information Modified
00280304 UI Referenced Color Palette Instance UID
00280A02 CS Pixel Spacing Calibration Type
00280A04 LO Pixel Spacing Calibration Description
00281040 CS Pixel Intensity Relationship
00281041 SS Pixel Intensity Relationship Sign
00281050 DS Window Center
00281051 DS Window Width
00281052 DS Rescale Intercept
00281053 DS Rescale Slope
00281054 LO Rescale Type
00281055 LO Window Center & Width Explanation
00281056 CS VOI LUT Function
00281090 CS Recommended Viewing Mode
00281101 US Red Palette Color Lookup Table Descriptor
00281102 US Green Palette Color Lookup Table Descriptor
00281103 US Blue Palette Color Lookup Table Descriptor
00281104 US Alpha Palette Color Lookup Table Descriptor
00281199 UI Palette Color Lookup Table UID
00281201 OW Red Palette Color Lookup Table Data
00281202 OW Green Palette Color Lookup Table Data
00281203 OW Blue Palette Color Lookup Table Data
00281204 OW Alpha Palette Color Lookup Table Data
00281221 OW Segmented Red Palette Color Lookup Table Data
00281222 OW Segmented Green Palette Color Lookup Table Data
00281223 OW Segmented Blue Palette Color Lookup Table Data
00281224 OW Segmented Alpha Palette Color Lookup Table Data
00281230 SQ Stored Value Color Range Sequence
00281231 FD Minimum Stored Value Mapped
00281232 FD Maximum Stored Value Mapped
00281300 CS Breast Implant Present
00281350 CS Partial View
00281351 ST Partial View Description
00281352 SQ Partial View Code Sequence
0028135A CS Spatial Locations Preserved
00281401 SQ Data Frame Assignment Sequence
00281402 CS Data Path Assignment
00281403 US Bits Mapped to Color Lookup Table
00281404 SQ Blending LUT 1 Sequence
00281405 CS Blending LUT 1 Transfer Function
00281406 FD Blending Weight Constant
00281407 US Blending Lookup Table Descriptor
00281408 OW Blending Lookup Table Data
0028140B SQ Enhanced Palette Color Lookup Table Sequence
0028140C SQ Blending LUT 2 Sequence
0028140D CS Blending LUT 2 Transfer Function
0028140E CS Data Path ID
0028140F CS RGB LUT Transfer Function
00281410 CS Alpha LUT Transfer Function
00282000 OB ICC Profile
00282002 CS Color Space
00282110 CS Lossy Image Compression
00282112 DS Lossy Image Compression Ratio
00282114 CS Lossy Image Compression Method
00283000 SQ Modality LUT Sequence
00283002 US LUT Descriptor
00283003 LO LUT Explanation
00283004 LO Modality LUT Type
00283006 US LUT Data
00283010 SQ VOI LUT Sequence
00283110 SQ Softcopy VOI LUT Sequence
00286010 US Representative Frame Number
00286020 US Frame Numbers of Interest (FOI)
00286022 LO Frame of Interest Description
00286023 CS Frame of Interest Type
00286040 US R Wave Pointer
00286100 SQ Mask Subtraction Sequence
00286101 CS Mask Operation
00286102 US Applicable Frame Range
00286110 US Mask Frame Numbers
00286112 US Contrast Frame Averaging
00286114 FL Mask Sub-pixel Shift
00286120 SS TID Offset
00286190 ST Mask Operation Explanation
00287000 SQ Equipment Administrator Sequence
00287001 US Number of Display Subsystems
00287002 US Current Configuration ID
00287003 US Display Subsystem ID
00287004 SH Display Subsystem Name
00287005 LO Display Subsystem Description
00287006 CS System Status
00287007 LO System Status Comment
00287008 SQ Target Luminance Characteristics Sequence
00287009 US Luminance Characteristics ID
0028700A SQ Display Subsystem Configuration Sequence
0028700B US Configuration ID
0028700C SH Configuration Name
0028700D LO Configuration Description
0028700E US Referenced Target Luminance Characteristics ID
0028700F SQ QA Results Sequence
00287010 SQ Display Subsystem QA Results Sequence
00287011 SQ Configuration QA Results Sequence
00287012 SQ Measurement Equipment Sequence
00287013 CS Measurement Functions
00287014 CS Measurement Equipment Type
00287015 SQ Visual Evaluation Result Sequence
00287016 SQ Display Calibration Result Sequence
00287017 US DDL Value
00287018 FL CIExy White Point
00287019 CS Display Function Type
0028701A FL Gamma Value
0028701B US Number of Luminance Points
0028701C SQ Luminance Response Sequence
0028701D FL Target Minimum Luminance
0028701E FL Target Maximum Luminance
0028701F FL Luminance Value
00287020 LO Luminance Response Description
00287021 CS White Point Flag
00287022 SQ Display Device Type Code Sequence
00287023 SQ Display Subsystem Sequence
00287024 SQ Luminance Result Sequence
00287025 CS Ambient Light Value Source
00287026 CS Measured Characteristics
00287027 SQ Luminance Uniformity Result Sequence
00287028 SQ Visual Evaluation Test Sequence
00287029 CS Test Result
0028702A LO Test Result Comment
0028702B CS Test Image Validation
0028702C SQ Test Pattern Code Sequence
0028702D SQ Measurement Pattern Code Sequence
0028702E SQ Visual Evaluation Method Code Sequence
00287FE0 UR Pixel Data Provider URL
00289001 UL Data Point Rows
00289002 UL Data Point Columns
00289003 CS Signal Domain Columns
00289108 CS Data Representation
00289110 SQ Pixel Measures Sequence
00289132 SQ Frame VOI LUT Sequence
00289145 SQ Pixel Value Transformation Sequence
00289235 CS Signal Domain Rows
00289411 FL Display Filter Percentage
00289415 SQ Frame Pixel Shift Sequence
00289416 US Subtraction Item ID
00289422 SQ Pixel Intensity Relationship LUT Sequence
00289443 SQ Frame Pixel Data Properties Sequence
00289444 CS Geometrical Properties
00289445 FL Geometric Maximum Distortion
00289446 CS Image Processing Applied
00289454 CS Mask Selection Mode
00289474 CS LUT Function
00289478 FL Mask Visibility Percentage
00289501 SQ Pixel Shift Sequence
00289502 SQ Region Pixel Shift Sequence
00289503 SS Vertices of the Region
00289505 SQ Multi-frame Presentation Sequence
00289506 US Pixel Shift Frame Range
00289507 US LUT Frame Range
00289520 DS Image to Equipment Mapping Matrix
00289537 CS Equipment Coordinate System Identification
00321031 SQ Requesting Physician Identification Sequence
00321032 PN Requesting Physician
00321033 LO Requesting Service
00321034 SQ Requesting Service Code Sequence
00321060 LO Requested Procedure Description
00321064 SQ Requested Procedure Code Sequence
00321065 SQ Requested Laterality Code Sequence
00321066 UT Reason for Visit
00321067 SQ Reason for Visit Code Sequence
00321070 LO Requested Contrast Agent
00540010 US Energy Window Vector
00540011 US Number of Energy Windows
00540012 SQ Energy Window Information Sequence
00540013 SQ Energy Window Range Sequence
00540014 DS Energy Window Lower Limit
00540015 DS Energy Window Upper Limit
00540016 SQ Radiopharmaceutical Information Sequence
00540017 IS Residual Syringe Counts
00540018 SH Energy Window Name
00540020 US Detector Vector
00540021 US Number of Detectors
00540022 SQ Detector Information Sequence
00540030 US Phase Vector
00540031 US Number of Phases
00540032 SQ Phase Information Sequence
00540033 US Number of Frames in Phase
00540036 IS Phase Delay
00540038 IS Pause Between Frames
00540039 CS Phase Description
00540050 US Rotation Vector
00540051 US Number of Rotations
00540052 SQ Rotation Information Sequence
00540053 US Number of Frames in Rotation
00540060 US R-R Interval Vector
00540061 US Number of R-R Intervals
00540062 SQ Gated Information Sequence
00540063 SQ Data Information Sequence
00540070 US Time Slot Vector
00540071 US Number of Time Slots
00540072 SQ Time Slot Information Sequence
00540073 DS Time Slot Time
00540080 US Slice Vector
00540081 US Number of Slices
00540090 US Angular View Vector
00540100 US Time Slice Vector
00540101 US Number of Time Slices
00540200 DS Start Angle
00540202 CS Type of Detector Motion
00540210 IS Trigger Vector
00540211 US Number of Triggers in Phase
00540220 SQ View Code Sequence
00540222 SQ View Modifier Code Sequence
00540300 SQ Radionuclide Code Sequence
00540302 SQ Administration Route Code Sequence
00540304 SQ Radiopharmaceutical Code Sequence
00540306 SQ Calibration Data Sequence
00540308 US Energy Window Number
00540400 SH Image ID
00540410 SQ Patient Orientation Code Sequence
00540412 SQ Patient Orientation Modifier Code Sequence
00540414 SQ Patient Gantry Relationship Code Sequence
00540500 CS Slice Progression Direction
00540501 CS Scan Progression Direction
00541000 CS Series Type
00541001 CS Units
00541002 CS Counts Source
00541004 CS Reprojection Method
00541006 CS SUV Type
00541100 CS Randoms Correction Method
00541101 LO Attenuation Correction Method
00541102 CS Decay Correction
00541103 LO Reconstruction Method
00541104 LO Detector Lines of Response Used
00541105 LO Scatter Correction Method
00541200 DS Axial Acceptance
00541201 IS Axial Mash
00541202 IS Transverse Mash
00541203 DS Detector Element Size
00541210 DS Coincidence Window Width
00541220 CS Secondary Counts Type
00541300 DS Frame Reference Time
00541310 IS Primary (Prompts) Counts Accumulated
00541311 IS Secondary Counts Accumulated
00541320 DS Slice Sensitivity Factor
00541321 DS Decay Factor
00541322 DS Dose Calibration Factor
00541323 DS Scatter Fraction Factor
00541324 DS Dead Time Factor
00541330 US Image Index
00880130 SH Storage Media File-set ID
00880140 UI Storage Media File-set UID
00880200 SQ Icon Image Sequence
20500010 SQ Presentation LUT Sequence
20500020 CS Presentation LUT Shape
20500500 SQ Referenced Presentation LUT Sequence
52009229 SQ Shared Functional Groups Sequence
52009230 SQ Per-frame Functional Groups Sequence
7FE00001 OV Extended Offset Table
7FE00002 OV Extended Offset Table Lengths
7FE00008 OF Float Pixel Data
7FE00009 OD Double Float Pixel Data
7FE00010 OB Pixel Data
`;

export interface DictionaryEntry {
  vr: string;
  name: string;
}

let parsed: Map<string, DictionaryEntry> | null = null;

/** The entry of a tag written as 8 upper-case hex digits ("00080060"), parsed once on first use. */
export function dictionaryEntry(tag: string): DictionaryEntry | undefined {
  if (!parsed) {
    parsed = new Map();
    for (const line of TABLE.split('\n')) {
      if (line.length < 12) continue;
      parsed.set(line.slice(0, 8), { vr: line.slice(9, 11), name: line.slice(12) });
    }
  }
  return parsed.get(tag);
}
